//! Workers with the model embed what they analyse, and the clusterer files it exactly as
//! one `storyline ingest` with the model would.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use storyline::cluster::Snapshot;
use storyline::embed::Embedder;
use storyline::ingest::{expand_paths, read_path};
use storyline::pipeline::{enqueue, run_worker, Pipeline, PipelineConfig, WorkerConfig};
use storyline::store::Store;
use storyline_testpg::Cluster;

mod common;

fn records() -> Vec<storyline::ingest::Record> {
    let set = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/compare/newswcl50");
    expand_paths(&[set.join("articles.jsonl")])
        .expect("newswcl50")
        .iter()
        .flat_map(|f| read_path(f, None))
        .map(|r| r.expect("a good record"))
        .collect()
}

/// Each event's id, story, members and summed embedding, as bits.
fn events(snapshot: &Snapshot) -> Vec<(i64, i64, u64, Option<Vec<u32>>)> {
    let mut events: Vec<_> = snapshot
        .events
        .iter()
        .map(|e| {
            let bits = e
                .signals
                .embedding
                .as_ref()
                .map(|v| v.iter().map(|x| x.to_bits()).collect());
            (e.id.0, e.story.0, e.n_articles, bits)
        })
        .collect();
    events.sort();
    events
}

#[test]
fn two_workers_with_the_model_embed_what_they_analyse_and_file_it_as_one_ingest_does() {
    let Some(model) = common::model() else {
        return;
    };
    let model: Arc<dyn Embedder> = Arc::new(model);
    let Some(cluster) = Cluster::start() else {
        return;
    };
    // Small batches, so that both workers analyse some of them and the clusterer places
    // several.
    let config = PipelineConfig {
        batch_size: 10,
        ..PipelineConfig::default()
    };

    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.db");
    let mut pipeline = Pipeline::open(&one, config.clone())
        .unwrap()
        .with_embedder(model.clone());
    let ingested = pipeline
        .ingest(records().into_iter().map(Ok), |_| {})
        .unwrap();
    assert_eq!(ingested.stored, 50);
    assert!(ingested.embed_seconds > 0.0);
    let expected = events(&Store::open(&one).unwrap().cluster_snapshot().unwrap());
    assert!(
        expected.iter().all(|e| e.3.is_some()),
        "every event has a vector"
    );

    let db = PathBuf::from(cluster.url());
    let queue = Store::open(&db).unwrap();
    enqueue(&queue, records().into_iter().map(Ok), &config).unwrap();
    let worker = WorkerConfig {
        pipeline: config,
        claim: 4,
        until_idle: true,
        idle_wait: Duration::from_millis(10),
        embedder: Some(model),
        ..WorkerConfig::default()
    };
    let never = AtomicBool::new(false);
    let reports: Vec<_> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|_| s.spawn(|| run_worker(&db, &worker, &never, |_| {}).unwrap()))
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let embedded: usize = reports.iter().map(|r| r.embedded).sum();
    assert_eq!(
        embedded, 50,
        "each article embedded once, by the worker that analysed it"
    );
    let clusterer: Vec<_> = reports.iter().filter(|r| r.clusterer).collect();
    assert_eq!(clusterer.len(), 1);
    assert_eq!(clusterer[0].ingest.stored, 50);
    assert_eq!(
        clusterer[0].ingest.embed_seconds, 0.0,
        "the clusterer embeds nothing a worker embedded"
    );
    // The same events, stories and summed vectors, bit for bit.
    assert_eq!(events(&queue.cluster_snapshot().unwrap()), expected);
}
