//! What the model's tests share.

use storyline_embed::{model_dir, MiniLm};

/// The model, or `None` (with a note) outside CI when it was never fetched. Under `CI=true`
/// (`scripts/test` fetches the model first) a missing model fails.
pub fn model() -> Option<MiniLm> {
    let Some(dir) = model_dir(None) else {
        assert!(
            std::env::var("CI").is_err(),
            "no model under CI: scripts/test fetches it (STORYLINE_MODEL)"
        );
        eprintln!("no model: run scripts/fetch-model.sh to test embeddings");
        return None;
    };
    Some(MiniLm::load(&dir).expect("model loads"))
}
