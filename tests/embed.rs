//! The candle sentence embedder against sentence-transformers' own vectors, and
//! model resolution from a folder, the Hugging Face cache layout and an
//! unreachable hub (issue #3). Needs the real model: `scripts/test` fetches it
//! and sets STRATA_MODEL_DIR.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use strata::embed::resolve::{DEFAULT_MODEL, ModelQuery, ModelSource, resolve};
use strata::embed::{BertSentenceEmbedder, EmbedError, Embedder, embed_all};
use strata::pipeline::{JobContext, JobError as _, NextStep};

const DEFAULT_MODEL_NAME: &str = DEFAULT_MODEL;

fn model_dir() -> PathBuf {
    let dir = std::env::var_os("STRATA_MODEL_DIR").map(PathBuf::from).expect(
        "these tests need the real model: run scripts/test (it fetches it) or set STRATA_MODEL_DIR",
    );
    assert!(
        strata::embed::resolve::is_model_dir(&dir),
        "{} holds no model",
        dir.display()
    );
    dir
}

struct Golden {
    text: String,
    input_ids: Vec<u32>,
    embedding: Vec<f32>,
}

fn golden() -> Vec<Golden> {
    let raw = std::fs::read_to_string(common::data("golden_minilm.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(json["model"], "sentence-transformers/all-MiniLM-L6-v2");
    json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| Golden {
            text: item["text"].as_str().unwrap().to_owned(),
            input_ids: serde_json::from_value(item["input_ids"].clone()).unwrap(),
            embedding: serde_json::from_value(item["embedding"].clone()).unwrap(),
        })
        .collect()
}

fn assert_close(got: &[f32], want: &[f32], text: &str) {
    assert_eq!(got.len(), want.len());
    let max_diff = got
        .iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    let cosine: f32 = got.iter().zip(want).map(|(a, b)| a * b).sum::<f32>()
        / (got.iter().map(|a| a * a).sum::<f32>().sqrt()
            * want.iter().map(|b| b * b).sum::<f32>().sqrt());
    assert!(max_diff <= 1e-4, "{text:?}: max |diff| {max_diff}");
    assert!(cosine >= 0.9999, "{text:?}: cosine {cosine}");
}

#[test]
fn equal_to_sentence_transformers_in_batches_of_mixed_lengths() {
    let embedder = BertSentenceEmbedder::load(&model_dir(), "all-MiniLM-L6-v2").unwrap();
    assert_eq!(embedder.dim(), 384);
    let golden = golden();
    assert!(
        golden.iter().any(|g| g.text.is_empty()),
        "the reference has an empty text"
    );
    assert!(
        golden.iter().any(|g| g.input_ids.len() == 256),
        "and one truncated at 256 tokens"
    );
    let texts: Vec<&str> = golden.iter().map(|g| g.text.as_str()).collect();
    // All at once (long and short texts padded together), one by one, and in odd batches.
    let together = embedder.embed(&texts).unwrap();
    let sorted = embed_all(&embedder, &texts, 7, 2, &JobContext::silent()).unwrap();
    for (i, g) in golden.iter().enumerate() {
        assert_close(&together[i], &g.embedding, &g.text);
        assert_close(&sorted[i], &g.embedding, &g.text);
        let alone = embedder.embed(&[texts[i]]).unwrap();
        assert_close(&alone[0], &g.embedding, &g.text);
    }
}

#[test]
fn unknown_token_share_flags_chinese_for_the_english_model() {
    let embedder = BertSentenceEmbedder::load(&model_dir(), "all-MiniLM-L6-v2").unwrap();
    let english = embedder
        .unknown_token_share(&["white hanging heart t-light holder"])
        .unwrap();
    let chinese = embedder
        .unknown_token_share(&["运动鞋 男款 透气", "不锈钢保温杯"])
        .unwrap();
    assert_eq!(english, 0.0);
    assert!(chinese > 0.5, "{chinese}");
}

#[test]
fn resolves_an_explicit_folder_and_refuses_an_incomplete_one() {
    let dir = model_dir();
    let found = resolve(&ModelQuery {
        dir: Some(dir.clone()),
        ..ModelQuery::default()
    })
    .unwrap();
    assert_eq!((found.dir, found.source), (dir, ModelSource::Folder));
    let empty = tempfile::tempdir().unwrap();
    let err = resolve(&ModelQuery {
        dir: Some(empty.path().into()),
        ..ModelQuery::default()
    })
    .unwrap_err();
    assert!(matches!(err, EmbedError::Model { .. }), "{err}");
    assert!(err.to_string().contains("config.json"), "{err}");
}

/// Lays the model out as the Hugging Face hub cache does (blobs, snapshot links, refs/main).
fn hf_cache_with_model(cache: &Path, repo: &str) {
    let root = cache.join(format!("models--{}", repo.replace('/', "--")));
    let revision = "0123456789abcdef0123456789abcdef01234567";
    let snapshot = root.join("snapshots").join(revision);
    std::fs::create_dir_all(&snapshot).unwrap();
    std::fs::create_dir_all(root.join("refs")).unwrap();
    std::fs::write(root.join("refs/main"), revision).unwrap();
    for file in strata::embed::resolve::MODEL_FILES {
        std::os::unix::fs::symlink(model_dir().join(file), snapshot.join(file)).unwrap();
    }
}

#[test]
fn resolves_the_hugging_face_cache_layout_and_embeds_from_it() {
    let cache = tempfile::tempdir().unwrap();
    hf_cache_with_model(cache.path(), "sentence-transformers/all-MiniLM-L6-v2");
    let query = ModelQuery {
        hf_cache: Some(cache.path().into()),
        // Were the cache not used, this closed port would fail the test.
        endpoint: Some("http://127.0.0.1:9".into()),
        ..ModelQuery::default()
    };
    let found = resolve(&query).unwrap();
    assert_eq!(found.source, ModelSource::HfCache);
    assert_eq!(found.name, "sentence-transformers/all-MiniLM-L6-v2");
    let embedder = BertSentenceEmbedder::load(&found.dir, &found.name).unwrap();
    let g = &golden()[0];
    assert_close(
        &embedder.embed(&[&g.text]).unwrap()[0],
        &g.embedding,
        &g.text,
    );
}

#[test]
fn offline_download_fails_fast_with_advice() {
    let cache = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let err = resolve(&ModelQuery {
        hf_cache: Some(cache.path().into()),
        endpoint: Some("http://127.0.0.1:9".into()),
        ..ModelQuery::default()
    })
    .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let msg = err.to_string();
    assert!(matches!(err, EmbedError::NotFound { .. }), "{msg}");
    // The error names the model and the cache it looked in; each edge words the way out
    // (the CLI's advice is checked in tests/cli.rs).
    assert!(msg.contains(DEFAULT_MODEL_NAME), "{msg}");
    assert!(msg.contains(&cache.path().display().to_string()), "{msg}");
    assert_eq!(
        err.next_step(),
        Some(NextStep::GetModel {
            model: DEFAULT_MODEL_NAME.to_owned()
        })
    );
}

#[test]
fn a_hub_that_never_answers_times_out_within_five_seconds() {
    // A local server that accepts connections and never replies (loopback only, closed at the end).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let err = resolve(&ModelQuery {
        hf_cache: Some(cache.path().into()),
        endpoint: Some(format!("http://{address}")),
        ..ModelQuery::default()
    })
    .unwrap_err();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(7), "took {took:?}");
    assert!(
        err.to_string()
            .contains("no answer from the hub within 5 s"),
        "{err}"
    );
    drop(listener);
}

#[test]
fn embed_texts_cli_writes_one_json_vector_per_line() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let golden = golden();
    let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["embed-texts", "--batch-size", "2", "--model-dir"])
        .arg(model_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = format!(
        "{}\n{}\n{}\n",
        golden[0].text, golden[1].text, golden[2].text
    );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<Vec<f32>> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for (line, g) in lines.iter().zip(&golden) {
        assert_close(line, &g.embedding, &g.text);
    }
}

#[test]
fn embed_cli_summarises_caches_and_warns_about_an_unread_language() {
    use std::process::Command;
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("zh.strata");
    let items = dir.path().join("zh.csv");
    std::fs::write(
        &items,
        "商品编号,商品名称,分类\nS1,运动鞋 男款 透气,鞋类\nS2,不锈钢保温杯,厨房\n",
    )
    .unwrap();
    let strata = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(args)
            .arg("--project")
            .arg(&project)
            .arg("--model-dir")
            .arg(model_dir())
            .output()
            .unwrap()
    };
    let import = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["import", "--items"])
        .arg(&items)
        .arg("--project")
        .arg(&project)
        .output()
        .unwrap();
    assert!(import.status.success());
    let first = strata(&["embed"]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(
        stderr.contains("tokens are unknown to")
            && stderr.contains("paraphrase-multilingual-MiniLM-L12-v2"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&first.stdout).contains("embedded:   2"));
    let second = strata(&["embed", "--json"]);
    let summary: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(
        (summary["embedded"].as_u64(), summary["from_cache"].as_u64()),
        (Some(0), Some(2))
    );
}

/// Issue 13: the embedder choice both edges use, with its warnings as data: the real model
/// reads English without a word, and is kept for Chinese with the `[UNK]` share.
#[test]
fn the_embedder_choice_warns_as_data() {
    use strata::embed::{
        EmbedWarning, EmbedderRequest, ModelQueryRequest, UNKNOWN_TOKEN_WARNING, choose_embedder,
    };
    let folder = EmbedderRequest::Model(ModelQueryRequest {
        repo: None,
        dir: Some(model_dir()),
    });
    let english =
        choose_embedder(&folder, &["white hanging heart t-light holder", "red mug"]).unwrap();
    assert!(!english.embedder.as_embedder().is_fallback());
    assert!(english.warnings.is_empty());

    let chinese = choose_embedder(&folder, &["运动鞋 男款 透气", "不锈钢保温杯"]).unwrap();
    assert!(!chinese.embedder.as_embedder().is_fallback());
    let share = chinese.unknown_tokens().expect("an [UNK] warning");
    assert!(share > UNKNOWN_TOKEN_WARNING, "{share}");
    assert!(matches!(
        &chinese.warnings[..],
        [EmbedWarning::UnknownTokens { .. }]
    ));
    // The fallback when no model can be had: tests/cli.rs, with the hub pointed at a closed port.
}
