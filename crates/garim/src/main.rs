//! `garim`: CLI wiring only. The work lives in the library crates (policy, mask, detect, onnx, media,
//! stage, server).

mod client;
mod eval;
mod healthcheck;
mod live_bench;
mod offline;
mod people;
mod requests_cmd;
mod scene_cmd;
mod service;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "garim",
    version,
    about = "Privacy masking between CCTV cameras and the NVR"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the models and the ONNX Runtime library are (found automatically after scripts/fetch-models).
#[derive(Args, Clone, Debug)]
pub struct ModelArgs {
    /// Models directory holding manifest.toml [env: GARIM_MODELS_DIR]
    #[arg(long)]
    pub models_dir: Option<PathBuf>,
    /// ONNX Runtime shared library [env: ORT_DYLIB_PATH]
    #[arg(long)]
    pub ort_lib: Option<PathBuf>,
    /// Threads per inference
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Width the face detector sees (frames are scaled down to it; 0 = native size). Small faces are
    /// covered through the people they belong to, so this only needs to resolve larger faces.
    #[arg(long, default_value_t = 384)]
    pub face_width: u32,
    /// Minimum person (and vehicle) score from YOLOX; lower masks more
    #[arg(long, default_value_t = detect::YoloxDecoder::default().conf_threshold,
          value_parser = score_threshold)]
    pub person_conf: f32,
    /// Where the models run: auto, cpu, cuda or tensorrt (default: the site's `[server] hardware`, or auto)
    #[arg(long)]
    pub hardware: Option<vocab::Hardware>,
}

/// Detector and mask options shared by `demo`, `mask`, `bench` and `eval`.
#[derive(Args, Clone, Debug, Default)]
pub struct MaskArgs {
    /// What to detect and mask: person, face, plate, vehicle (comma-separated; default: the shipped
    /// default classes)
    #[arg(long, visible_alias = "classes")]
    pub detect: Option<String>,
    /// How to hide: pixelate, blur or fill
    #[arg(long)]
    pub style: Option<String>,
    /// Run detection on every k-th frame; the tracker covers the frames between (default and 0: about 5
    /// detections a second at the video's frame rate)
    #[arg(long)]
    pub detect_every: Option<u32>,
    /// Grow each masked box by this fraction of its size on every side
    #[arg(long, value_parser = dilation)]
    pub dilate: Option<f32>,
    /// Seconds a tracked box is kept after its person was last detected
    #[arg(long, value_parser = hold_seconds)]
    pub hold_secs: Option<f32>,
}

/// A detector score threshold: a number in (0, 1). (NaN or 1 would silently switch detection off.)
fn score_threshold(s: &str) -> Result<f32, String> {
    match s.parse::<f32>() {
        Ok(v) if v > 0.0 && v < 1.0 => Ok(v),
        _ => Err(format!(
            "{s:?} is not a score threshold between 0 and 1 (exclusive)"
        )),
    }
}

/// A hold time in seconds, from 0 to 60.
fn hold_seconds(s: &str) -> Result<f32, String> {
    match s.parse::<f32>() {
        Ok(v) if (0.0..=60.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a hold time between 0 and 60 seconds")),
    }
}

/// Box growth per side as a fraction of the box size: a number from 0 to 2.
fn dilation(s: &str) -> Result<f32, String> {
    match s.parse::<f32>() {
        Ok(v) if (0.0..=2.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a dilation between 0 and 2")),
    }
}

impl ModelArgs {
    /// The site runtime's model options.
    pub fn options(&self) -> site::ModelOptions {
        site::ModelOptions {
            models_dir: self.models_dir.clone(),
            ort_lib: self.ort_lib.clone(),
            threads: self.threads,
            face_width: self.face_width,
            person_conf: self.person_conf,
            plate_recheck: detect::plate::PLATE_RECHECK,
            hardware: self.hardware,
            engine_cache: None,
        }
    }
}

impl MaskArgs {
    /// The site runtime's masking overrides, parsed (an error names the flag).
    pub fn overrides(&self) -> anyhow::Result<site::Overrides> {
        let detect = self
            .detect
            .as_deref()
            .map(detect::Class::parse_list)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--detect: {e}"))?;
        let style = self
            .style
            .as_deref()
            .map(str::parse::<policy::MaskStyleName>)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--style: {e}"))?;
        Ok(site::Overrides {
            detect,
            style,
            detect_every: self.detect_every,
            tracker: self.tracker(),
            fresh_scene: Vec::new(),
            encode: media::EncodeSettings::default(),
            motion_gate: None,
        })
    }

    /// The shipped tracker settings with the command line's overrides.
    pub fn tracker(&self) -> detect::TrackerConfig {
        let d = detect::TrackerConfig::default();
        detect::TrackerConfig {
            dilate_frac: self.dilate.unwrap_or(d.dilate_frac),
            hold_secs: self.hold_secs.unwrap_or(d.hold_secs),
            ..d
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Simulated RTSP camera with real footage → garim → masked RTSP, recording, /metrics
    Demo(service::DemoArgs),
    /// The service, from a site configuration file
    Run(service::RunArgs),
    /// Validate a site configuration file (exit 1 with every error when invalid)
    Check {
        /// Site policy file
        file: PathBuf,
        /// Output format: text or json
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// The public 운영·관리 방침 (Korean) rendered from a site policy file
    Notice {
        /// Site policy file
        file: PathBuf,
        /// Output format: md or html
        #[arg(long, default_value = "md")]
        format: String,
        /// Render the notice of one facility only
        #[arg(long)]
        facility: Option<String>,
        /// Render the printable signboards (안내판, Art. 25(4)), one per facility, instead
        #[arg(long)]
        signs: bool,
    },
    /// Add or update cameras from a spreadsheet (CSV with a header row) in a site file, validated first
    Import {
        /// Camera spreadsheet (CSV, UTF-8, header row)
        csv: PathBuf,
        /// The site file to update (rewritten only when the result is valid)
        #[arg(long)]
        into: PathBuf,
    },
    /// Site key management
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Encrypted recordings in the vault
    #[command(subcommand)]
    Recordings(RecordingsCommand),
    /// Users and roles (the first manager is made on the host; then a manager logs in)
    #[command(subcommand)]
    User(people::UserCommand),
    /// The 관리대장: verify the hash chain, export the form
    #[command(subcommand)]
    Ledger(people::LedgerCommand),
    /// The 점검대장: daily and on-demand inspections, a manager's countersignature
    #[command(subcommand)]
    Inspection(people::InspectionCommand),
    /// Data-subject requests (존재확인 · 열람 · 삭제): receive, decide, answer, print the forms
    #[command(subcommand)]
    Request(requests_cmd::RequestCommand),
    /// Re-aim / tamper alarms: each camera's reference view, and a manager's acceptance of a new view
    #[command(subcommand)]
    Scene(scene_cmd::SceneCommand),
    /// Mask a video file offline with the same detectors and mask code as the live pipeline
    Mask(offline::MaskFileArgs),
    /// Masking quality against ground truth: leak rate, longest leaked run per track, over-masking, fps
    Eval(eval::EvalArgs),
    /// End-to-end throughput and per-stage latency on the bundled footage (JSON)
    Bench(offline::BenchArgs),
    /// Serve a video file looped over RTSP, like a camera (for tests and trials)
    SimCamera(service::SimArgs),
    /// Exit 0 when the service's /healthz answers 200 (the container HEALTHCHECK; no curl needed)
    Healthcheck(healthcheck::HealthcheckArgs),
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Write a new random site key (mode 0600); refuses to overwrite an existing file
    Init {
        /// Where to write the key (refused when it exists)
        #[arg(long)]
        file: PathBuf,
    },
    /// Make the key of sealed recordings and split it among the managers (k of them open sealed footage):
    /// prints the public key for the policy; the private key is stored nowhere
    SealedInit {
        /// Site policy file
        #[arg(long)]
        config: PathBuf,
        /// The manager doing this [env: GARIM_USER]
        #[arg(long)]
        user: Option<String>,
    },
    /// Re-split the sealed key among today's managers (after adding or removing one): takes k managers
    SealedSplit {
        /// Site policy file
        #[arg(long)]
        config: PathBuf,
        /// The manager doing this, one of the k [env: GARIM_USER]
        #[arg(long)]
        user: Option<String>,
        /// Another manager whose share rebuilds the key (repeat; password from GARIM_PASSWORD_<NAME> or asked)
        #[arg(long = "with")]
        with: Vec<String>,
    },
}

#[derive(Subcommand)]
enum RecordingsCommand {
    /// List recorded segments
    List {
        /// Site policy file
        #[arg(long)]
        config: PathBuf,
        /// Only this camera
        #[arg(long)]
        camera: Option<String>,
        /// From (2026-11-24T09:00:00Z, 2026-11-24 or unix seconds)
        #[arg(long)]
        from: Option<String>,
        /// To (same forms as --from)
        #[arg(long)]
        to: Option<String>,
        /// Who is asking (access, manager) [env: GARIM_USER]
        #[arg(long)]
        user: Option<String>,
    },
    /// Decrypt and join one camera's segments into a playable MP4, as a logged-in user (a 관리대장 row)
    Export {
        /// Site policy file
        #[arg(long)]
        config: PathBuf,
        /// Camera id
        #[arg(long)]
        camera: String,
        /// From (2026-11-24T09:00:00Z, 2026-11-24 or unix seconds)
        #[arg(long)]
        from: Option<String>,
        /// To (same forms as --from)
        #[arg(long)]
        to: Option<String>,
        /// Why the footage is used (목적/사유, written to the ledger)
        #[arg(long)]
        purpose: String,
        /// Who is exporting (role access or manager) [env: GARIM_USER]
        #[arg(long)]
        user: Option<String>,
        /// Replace the output file if it exists (refused otherwise)
        #[arg(long)]
        force: bool,
        /// Output MP4 file
        out: PathBuf,
    },
}

/// Logs go to stderr: JSON lines when stderr is not a terminal (containers, journald, log shippers), text on a
/// terminal; `GARIM_LOG_FORMAT=json|text` overrides, `GARIM_LOG` sets the filter (default `info`).
fn init_logging() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("GARIM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = match std::env::var("GARIM_LOG_FORMAT").as_deref() {
        Ok("json") => true,
        Ok("text") => false,
        Ok(other) if !other.is_empty() => {
            eprintln!("GARIM_LOG_FORMAT={other:?} is not json or text; using text");
            false
        }
        _ => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    // Everything garim writes (segments, index, ledger, scene states, exports, policy copies) is private to its
    // user, whatever umask it was started with: directories 0700, files 0600.
    // SAFETY: umask only sets this process's file creation mask; no thread exists yet.
    unsafe {
        libc::umask(0o077);
    }
    init_logging();
    let cli = Cli::parse();
    if !matches!(
        cli.command,
        Command::Demo(_)
            | Command::Run(_)
            | Command::SimCamera(_)
            | Command::Mask(_)
            | Command::Eval(_)
            | Command::Bench(_)
    ) {
        // Commands that print and exit: a reader that went away (`garim ledger export | head`) ends them
        // quietly, as with any Unix tool, instead of a "Broken pipe" panic. The services keep Rust's default
        // (SIGPIPE ignored), so a peer closing a socket is an error they handle, not their death.
        // SAFETY: called before any thread is started; SIG_DFL is a valid disposition for SIGPIPE.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let result = match cli.command {
        Command::Demo(a) => service::demo(&a.models.clone(), a),
        Command::Run(a) => service::run(&a.models.clone(), a),
        Command::Check { file, format } => return service::check(&file, &format),
        Command::Notice {
            file,
            format,
            facility,
            signs,
        } => service::notice(&file, &format, facility.as_deref(), signs),
        Command::Import { csv, into } => service::import(&csv, &into),
        Command::Keys(KeysCommand::Init { file }) => service::keys_init(&file),
        Command::Keys(KeysCommand::SealedInit { config, user }) => {
            requests_cmd::sealed_init(&config, user.as_deref())
        }
        Command::Keys(KeysCommand::SealedSplit { config, user, with }) => {
            requests_cmd::sealed_split(&config, user.as_deref(), &with)
        }
        Command::Request(c) => requests_cmd::request(c),
        Command::Recordings(RecordingsCommand::List {
            config,
            camera,
            from,
            to,
            user,
        }) => service::recordings_list(
            &config,
            camera.as_deref(),
            (from.as_deref(), to.as_deref()),
            user.as_deref(),
        ),
        Command::Recordings(RecordingsCommand::Export {
            config,
            camera,
            from,
            to,
            purpose,
            user,
            force,
            out,
        }) => service::recordings_export(
            &config,
            &camera,
            (from.as_deref(), to.as_deref()),
            (&purpose, user.as_deref()),
            (&out, force),
        ),
        Command::Scene(c) => scene_cmd::run(c),
        Command::User(c) => people::user(c),
        Command::Ledger(c) => people::ledger(c),
        Command::Inspection(c) => people::inspection(c),
        Command::Mask(a) => offline::mask_file(&a.models.clone(), a),
        Command::Bench(a) => offline::bench(&a.models.clone(), a),
        Command::Eval(a) => eval::eval(&a.models.clone(), a),
        Command::SimCamera(a) => service::sim_camera(a),
        Command::Healthcheck(a) => healthcheck::healthcheck(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every option and argument of every subcommand says what it is, and no subcommand shows options that
    /// belong to another (the detector tuning flags appear only where detectors run).
    #[test]
    fn every_subcommand_documents_only_its_own_options() {
        fn walk(
            cmd: &clap::Command,
            path: &str,
            missing: &mut Vec<String>,
            seen: &mut Vec<(String, Vec<String>)>,
        ) {
            let names: Vec<String> = cmd
                .get_arguments()
                .filter(|a| !matches!(a.get_id().as_str(), "help" | "version"))
                .map(|a| {
                    if a.get_help().is_none() {
                        missing.push(format!("{path} {}", a.get_id()));
                    }
                    a.get_id().to_string()
                })
                .collect();
            seen.push((path.to_string(), names));
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing, seen);
            }
        }
        let (mut missing, mut seen) = (Vec::new(), Vec::new());
        walk(&Cli::command(), "garim", &mut missing, &mut seen);
        assert!(missing.is_empty(), "undocumented: {missing:?}");
        let with_models: Vec<&str> = seen
            .iter()
            .filter(|(_, args)| args.iter().any(|a| a == "person_conf"))
            .map(|(p, _)| p.as_str())
            .collect();
        assert_eq!(
            with_models,
            [
                "garim demo",
                "garim run",
                "garim mask",
                "garim eval",
                "garim bench"
            ]
        );
    }
}
