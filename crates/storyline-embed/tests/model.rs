//! The model against sentence-transformers, and how it is loaded.

mod common;

use common::model;
use storyline::embed::Embedder;
use storyline_embed::MiniLm;

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The int8 model must stay close to the float model people know: the cosines of
/// sentence-transformers 3.3.1 (torch 2.5.1, all-MiniLM-L6-v2, 128 tokens) for these
/// texts, within 0.03.
#[test]
fn cosines_match_sentence_transformers() {
    let Some(m) = model() else { return };
    let v = m
        .embed(&[
            "An earthquake struck the coast of Chile on Sunday.",
            "A strong quake hit Chile's coastline on Sunday.",
            "The central bank raised interest rates by half a point.",
            "A",
        ])
        .expect("embeds");
    assert_eq!(v.len(), 4);
    assert!(v.iter().all(|x| x.len() == m.dim()));
    for x in &v {
        assert!((dot(x, x) - 1.0).abs() < 1e-4);
    }
    let reference = [
        (0, 1, 0.8728),
        (0, 2, 0.0764),
        (0, 3, 0.0608),
        (1, 2, 0.0970),
    ];
    for (i, j, want) in reference {
        let got = dot(&v[i], &v[j]);
        assert!(
            (got - want).abs() < 0.03,
            "cosine of texts {i} and {j}: {got}, sentence-transformers {want}"
        );
    }
}

/// A text's vector does not depend on the texts embedded with it.
#[test]
fn a_vector_does_not_depend_on_the_texts_beside_it() {
    let Some(m) = model() else { return };
    let short = "Flooding closed the main road.";
    let alone = m.embed(&[short]).expect("embeds");
    let long = "A much longer text about something else entirely, which pads the short \
                one to its own length if both went through the model in one pass.";
    let together = m.embed(&[short, long]).expect("embeds");
    let c = dot(&alone[0], &together[0]);
    assert!(c > 0.9999, "{c}");
}

#[test]
fn a_folder_without_the_model_names_the_missing_file() {
    let dir = std::env::temp_dir().join(format!("storyline-embed-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let e = MiniLm::load(&dir).err().expect("refused").to_string();
    assert!(
        e.contains("model.onnx") && e.contains("fetch-model.sh"),
        "{e}"
    );
    let _ = std::fs::remove_dir(&dir);
}
