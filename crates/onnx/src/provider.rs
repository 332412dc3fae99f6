//! Where sessions run: the `[server] hardware` choice turned into execution providers to try, in order, from
//! what the loaded ONNX Runtime library offers. A GPU provider that is missing from the library, or that fails
//! to start (no GPU, no driver), falls back to the next one and finally to the CPU, never silently: the reason
//! is logged and kept in the `Placement` that /healthz shows.

use ort::ep::{self, ExecutionProvider};
use serde::Serialize;
use std::path::PathBuf;
use vocab::Hardware;

/// An execution provider a session may run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Cpu,
    Cuda,
    #[serde(rename = "tensorrt")]
    TensorRt,
}

impl Provider {
    pub const ALL: [Provider; 3] = [Provider::Cpu, Provider::Cuda, Provider::TensorRt];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Cpu => "cpu",
            Provider::Cuda => "cuda",
            Provider::TensorRt => "tensorrt",
        }
    }

    /// ONNX Runtime's name for it.
    fn ort_name(self) -> &'static str {
        match self {
            Provider::Cpu => "CPUExecutionProvider",
            Provider::Cuda => ep::CUDA::NAME,
            Provider::TensorRt => ep::TensorRT::NAME,
        }
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where inference was asked to run, where it runs, and why it runs elsewhere (if it does).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Placement {
    pub requested: Hardware,
    pub provider: Provider,
    /// Why not the provider asked for (or, for `auto`, why not a GPU).
    pub reason: Option<String>,
}

/// The providers to try, in order, for `hardware` when the library offers `offered`, and why any asked-for
/// one is left out. The CPU is always last.
pub fn plan(hardware: Hardware, offered: &[Provider]) -> (Vec<Provider>, Option<String>) {
    let has = |p: Provider| offered.contains(&p);
    let missing = |p: Provider| {
        format!(
            "{} is not in this ONNX Runtime library (a CPU-only build): install onnxruntime-gpu and point \
             ORT_DYLIB_PATH at its libonnxruntime.so",
            p.ort_name()
        )
    };
    let wanted: &[Provider] = match hardware {
        Hardware::Cpu => &[],
        Hardware::Cuda => &[Provider::Cuda],
        Hardware::TensorRt => &[Provider::TensorRt, Provider::Cuda],
        Hardware::Auto => &[Provider::TensorRt, Provider::Cuda],
    };
    let mut order: Vec<Provider> = wanted.iter().copied().filter(|&p| has(p)).collect();
    order.push(Provider::Cpu);
    let reason = match (hardware, wanted.first()) {
        (_, None) => None,
        (_, Some(&first)) if has(first) => None,
        (Hardware::Auto, _) if order.len() == 1 => {
            Some("no GPU execution provider in this ONNX Runtime library (a CPU-only build)".into())
        }
        // Auto found CUDA without TensorRT: what it was meant to do.
        (Hardware::Auto, _) => None,
        (_, Some(&first)) => Some(missing(first)),
    };
    (order, reason)
}

/// The GPU providers the loaded library offers.
pub fn offered() -> Vec<Provider> {
    let mut out = vec![Provider::Cpu];
    if ep::CUDA::is_available().unwrap_or(false) {
        out.push(Provider::Cuda);
    }
    if ep::TensorRT::is_available().unwrap_or(false) {
        out.push(Provider::TensorRt);
    }
    out
}

/// The execution provider to register for `p` (None: the CPU, ONNX Runtime's default). TensorRT builds FP16
/// engines and keeps them (and its timing cache) in `engine_cache`, so a restart does not rebuild them.
pub fn dispatch(
    p: Provider,
    engine_cache: Option<&PathBuf>,
) -> Option<ep::ExecutionProviderDispatch> {
    match p {
        Provider::Cpu => None,
        Provider::Cuda => Some(ep::CUDA::default().build().error_on_failure()),
        Provider::TensorRt => {
            let mut trt = ep::TensorRT::default().with_fp16(true);
            // Made private when TensorRT is tried (never on a CPU-only machine).
            let made = engine_cache.filter(|dir| {
                use std::os::unix::fs::DirBuilderExt;
                let made = std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir);
                if let Err(e) = &made {
                    tracing::warn!(
                        "TensorRT engines are not kept ({}: {e}); they are rebuilt at every start",
                        dir.display()
                    );
                }
                made.is_ok()
            });
            if let Some(dir) = made {
                let dir = dir.display().to_string();
                trt = trt
                    .with_engine_cache(true)
                    .with_engine_cache_path(&dir)
                    .with_timing_cache(true)
                    .with_timing_cache_path(&dir);
            }
            Some(trt.build().error_on_failure())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cpu_only_library_runs_everything_on_the_cpu_and_says_why() {
        let cpu = [Provider::Cpu];
        assert_eq!(plan(Hardware::Cpu, &cpu), (vec![Provider::Cpu], None));
        let (order, why) = plan(Hardware::Cuda, &cpu);
        assert_eq!(order, vec![Provider::Cpu]);
        assert!(
            why.unwrap()
                .contains("CUDAExecutionProvider is not in this ONNX Runtime")
        );
        let (order, why) = plan(Hardware::TensorRt, &cpu);
        assert_eq!(order, vec![Provider::Cpu]);
        assert!(why.unwrap().contains("TensorrtExecutionProvider"));
        let (order, why) = plan(Hardware::Auto, &cpu);
        assert_eq!(order, vec![Provider::Cpu]);
        assert!(why.unwrap().contains("no GPU execution provider"));
    }

    #[test]
    fn a_gpu_library_tries_the_fastest_first_and_keeps_the_cpu_last() {
        let all = [Provider::Cpu, Provider::Cuda, Provider::TensorRt];
        assert_eq!(
            plan(Hardware::Auto, &all),
            (
                vec![Provider::TensorRt, Provider::Cuda, Provider::Cpu],
                None
            )
        );
        assert_eq!(
            plan(Hardware::Cuda, &all),
            (vec![Provider::Cuda, Provider::Cpu], None)
        );
        assert_eq!(plan(Hardware::Cpu, &all), (vec![Provider::Cpu], None));
        // TensorRT asked for but only CUDA offered: CUDA, saying so.
        let cuda = [Provider::Cpu, Provider::Cuda];
        let (order, why) = plan(Hardware::TensorRt, &cuda);
        assert_eq!(order, vec![Provider::Cuda, Provider::Cpu]);
        assert!(why.unwrap().contains("TensorrtExecutionProvider is not in"));
        assert_eq!(
            plan(Hardware::Auto, &cuda),
            (vec![Provider::Cuda, Provider::Cpu], None)
        );
    }
}
