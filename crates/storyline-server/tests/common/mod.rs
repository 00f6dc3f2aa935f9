//! Shared by the API and browser tests: a temporary store built from `../shared/seeds`.

// Each test binary uses a part of the table's helpers.
#[allow(dead_code)]
pub mod query_table;

use std::path::{Path, PathBuf};

use storyline::ingest;
use storyline::pipeline::{Pipeline, PipelineConfig};

pub fn shared() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    assert!(
        p.join("seeds").is_dir(),
        "../shared must sit beside the repository: {}",
        p.display()
    );
    p
}

/// The seed files, in name order.
#[allow(dead_code)]
pub fn ingest_files() -> Vec<PathBuf> {
    ingest::expand_paths(&[shared().join("seeds")]).expect("seed files")
}

/// A fresh store holding the seed reports; the directory lives as long as the guard.
#[allow(dead_code)]
pub fn seeded_store() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("serve.db");
    let mut p = Pipeline::open(&db, PipelineConfig::default()).expect("open pipeline");
    let files = ingest::expand_paths(&[shared().join("seeds")]).expect("seed files");
    let records = files.iter().flat_map(|f| ingest::read_path(f, None));
    let report = p.ingest(records, |_| {}).expect("ingest seeds");
    assert!(report.stored >= 5, "seeds stored: {report:?}");
    (dir, db)
}
