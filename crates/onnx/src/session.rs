//! ONNX Runtime sessions behind `detect::Backend`. One runtime environment per process (ONNX Runtime allows
//! only one, and tests share it through a static); one session per model, shared by every camera.

use crate::graph_fix;
use crate::manifest::{ModelError, ModelStore};
use crate::provider::{self, Placement, Provider};
use detect::{Backend, DetectError, Tensor};
use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::TensorRef;
use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("cannot load ONNX Runtime from {path}: {reason}")]
    Library { path: PathBuf, reason: String },
    #[error("cannot load model {model}: {reason}")]
    Session { model: String, reason: String },
}

#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Models directory (holds manifest.toml); found automatically when `None`.
    pub models_dir: Option<PathBuf>,
    /// ONNX Runtime shared library; `$ORT_DYLIB_PATH`, then the manifest's copy when `None`.
    pub ort_lib: Option<PathBuf>,
    /// Threads per inference; 2 fits the reference 2-core machine.
    pub intra_threads: usize,
    /// Where the models should run (see `provider`).
    pub hardware: vocab::Hardware,
    /// Where TensorRT keeps the engines it builds (under the storage dir; None: rebuilt at every start).
    pub engine_cache: Option<PathBuf>,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            models_dir: None,
            ort_lib: None,
            intra_threads: 2,
            hardware: vocab::Hardware::Cpu,
            engine_cache: None,
        }
    }
}

/// Verified models plus the process-wide ONNX Runtime environment.
pub struct Runtime {
    store: ModelStore,
    env: &'static Environment,
    opts: RuntimeOptions,
    /// The providers to try for each session, fastest first, the CPU last.
    order: Vec<Provider>,
    placement: Mutex<Placement>,
}

static ENV: OnceLock<Result<Environment, String>> = OnceLock::new();

impl Runtime {
    pub fn init(opts: RuntimeOptions) -> Result<Runtime, RuntimeError> {
        let store = ModelStore::locate(opts.models_dir.as_deref())?;
        let lib = match (&opts.ort_lib, std::env::var_os("ORT_DYLIB_PATH")) {
            (Some(p), _) => p.clone(),
            (None, Some(p)) => PathBuf::from(p),
            (None, None) => store.verified_path("onnxruntime")?,
        };
        if !lib.is_file() {
            return Err(RuntimeError::Library {
                path: lib,
                reason: "no such file; fetch it with scripts/fetch-models".into(),
            });
        }
        let env = ENV.get_or_init(|| {
            ort::init_from(&lib)
                .map_err(|e| e.to_string())?
                .with_name("garim")
                .build()
                .map_err(|e| e.to_string())
        });
        let env = env.as_ref().map_err(|reason| RuntimeError::Library {
            path: lib.clone(),
            reason: reason.clone(),
        })?;
        let (order, reason) = provider::plan(opts.hardware, &provider::offered());
        if let Some(why) = &reason {
            if opts.hardware == vocab::Hardware::Auto {
                tracing::info!("inference on the CPU: {why}");
            } else {
                tracing::warn!("inference on the CPU, not {}: {why}", opts.hardware);
            }
        }
        let placement = Mutex::new(Placement {
            requested: opts.hardware,
            provider: order[0],
            reason,
        });
        Ok(Runtime {
            store,
            env,
            opts,
            order,
            placement,
        })
    }

    /// Where inference runs now: the provider of the last session made (they all try the same order), and why
    /// not the one asked for.
    pub fn placement(&self) -> Placement {
        self.placement.lock().clone()
    }

    pub fn store(&self) -> &ModelStore {
        &self.store
    }

    /// A session for the manifest entry `model`, its file verified by sha256 first.
    pub fn backend(&self, model: &str) -> Result<OrtBackend, RuntimeError> {
        let path = self.store.verified_path(model)?;
        let session_err = |reason: String| RuntimeError::Session {
            model: model.to_string(),
            reason,
        };
        let mut bytes = std::fs::read(&path).map_err(|e| session_err(e.to_string()))?;
        if model == "centerface" {
            bytes = graph_fix::make_dynamic(&bytes).map_err(|e| session_err(e.0.to_string()))?;
        }
        let (session, provider) = self.session_on_best(model, &bytes).map_err(session_err)?;
        let input_name = session
            .inputs()
            .first()
            .map(|i| i.name().to_string())
            .ok_or_else(|| session_err("model has no input".into()))?;
        Ok(OrtBackend {
            name: model.to_string(),
            input_name,
            provider,
            session: Mutex::new(session),
        })
    }

    /// A session on the first provider of `order` that starts; each that does not is logged with its reason,
    /// which the placement keeps.
    fn session_on_best(&self, model: &str, bytes: &[u8]) -> Result<(Session, Provider), String> {
        let mut failures = Vec::new();
        for &p in &self.order {
            let ep = provider::dispatch(p, self.opts.engine_cache.as_ref());
            match build_session(self.env, self.opts.intra_threads, ep, bytes) {
                Ok(s) => {
                    let mut placement = self.placement.lock();
                    placement.provider = p;
                    let gauge = &telemetry::metrics().inference_provider;
                    for q in Provider::ALL {
                        gauge
                            .with_label_values(&[q.as_str()])
                            .set(i64::from(q == p));
                    }
                    if !failures.is_empty() {
                        placement.reason = Some(failures.join("; "));
                    }
                    return Ok((s, p));
                }
                Err(e) if p == Provider::Cpu => return Err(e),
                Err(e) => {
                    tracing::warn!(model, "{p} could not start, trying the next provider: {e}");
                    failures.push(format!("{p} could not start for {model}: {e}"));
                }
            }
        }
        Err("no execution provider to try".into())
    }
}

fn build_session(
    env: &Environment,
    threads: usize,
    ep: Option<ort::ep::ExecutionProviderDispatch>,
    bytes: &[u8],
) -> Result<Session, String> {
    let e = |e: ort::Error<_>| e.to_string();
    let mut builder = Session::builder(env).map_err(|e| e.to_string())?;
    if let Some(ep) = ep {
        builder = builder.with_execution_providers([ep]).map_err(e)?;
    }
    builder
        .with_intra_threads(threads)
        .map_err(e)?
        .with_inter_threads(1)
        .map_err(e)?
        .with_intra_op_spinning(false)
        .map_err(e)?
        .with_inter_op_spinning(false)
        .map_err(e)?
        .with_optimization_level(GraphOptimizationLevel::All)
        .map_err(e)?
        .commit_from_memory(bytes)
        .map_err(|e| e.to_string())
}

/// One model's session. Calls are serialised: parallelism comes from intra-op threads.
pub struct OrtBackend {
    name: String,
    input_name: String,
    provider: Provider,
    session: Mutex<Session>,
}

impl OrtBackend {
    /// The execution provider this session runs on.
    pub fn provider(&self) -> Provider {
        self.provider
    }
}

impl Backend for OrtBackend {
    fn run(&self, input: Tensor) -> Result<Vec<Tensor>, DetectError> {
        let fail = |reason: String| DetectError::Inference {
            model: self.name.clone(),
            reason,
        };
        let started = Instant::now();
        let shape: Vec<i64> = input.shape.iter().map(|&d| d as i64).collect();
        let value = TensorRef::from_array_view((shape, input.data.as_slice()))
            .map_err(|e| fail(e.to_string()))?;
        let mut session = self.session.lock();
        let outputs = session
            .run(ort::inputs![self.input_name.as_str() => value])
            .map_err(|e| fail(e.to_string()))?;
        let mut result = Vec::with_capacity(outputs.len());
        for (_, v) in outputs.iter() {
            let (shape, data) = v
                .try_extract_tensor::<f32>()
                .map_err(|e| fail(e.to_string()))?;
            result.push(Tensor {
                shape: shape.iter().map(|&d| d.max(0) as usize).collect(),
                data: data.to_vec(),
            });
        }
        drop(outputs);
        drop(session);
        telemetry::metrics()
            .inference_seconds
            .with_label_values(&[&self.name])
            .observe(started.elapsed().as_secs_f64());
        Ok(result)
    }

    fn model_name(&self) -> &str {
        &self.name
    }
}
