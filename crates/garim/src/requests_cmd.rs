//! `garim request …` (data-subject requests, through the running service's API, which ledgers each step) and
//! `garim keys sealed-init|sealed-split` (the sealed key split among the managers, on the host, as a
//! logged-in manager).

use crate::client;
use anyhow::{Result, anyhow};
use clap::Subcommand;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum RequestCommand {
    /// Receive a request (존재확인, 열람 or 삭제); due in 10 days (or the policy's shorter time)
    New {
        /// Site policy file
        #[arg(long)]
        config: PathBuf,
        /// existence (존재확인), view (열람) or deletion (삭제)
        #[arg(long = "type")]
        kind: String,
        /// The requester's name (청구인)
        #[arg(long)]
        requester: String,
        /// How to reach them
        #[arg(long)]
        contact: String,
        /// Camera id (repeat for several)
        #[arg(long = "camera", required = true)]
        cameras: Vec<String>,
        /// Window start (2026-11-24T09:00:00Z or unix seconds)
        #[arg(long)]
        from: String,
        /// Window end
        #[arg(long)]
        to: String,
        /// What they looked like, to find them
        #[arg(long, default_value = "")]
        description: String,
        /// The identity document seen (e.g. 주민등록증); never its number or a copy
        #[arg(long)]
        identity_check: String,
        /// Who receives it [env: GARIM_USER]
        #[arg(long)]
        user: Option<String>,
    },
    /// Every request you may see, with state and due date
    List {
        /// Site policy file
        #[arg(long)]
        config: PathBuf,
        /// Who is asking [env: GARIM_USER]
        #[arg(long)]
        user: Option<String>,
    },
    /// One request, whole
    Show {
        /// Site policy file
        #[arg(long)]
        config: PathBuf,
        /// Request id (DSR-2026-0001)
        id: String,
        /// Who is asking [env: GARIM_USER]
        #[arg(long)]
        user: Option<String>,
    },
    /// Move a request on: checking, fulfilled, partly_fulfilled, refused or closed
    State {
        /// Site policy file
        #[arg(long)]
        config: PathBuf,
        /// Request id
        id: String,
        /// The next state
        to: String,
        /// A note for the record
        #[arg(long, default_value = "")]
        note: String,
        /// Who is doing this [env: GARIM_USER]
        #[arg(long)]
        user: Option<String>,
    },
    /// Decide: fulfil, partly or refuse (a refusal names one of the policy's reasons, by number or words)
    Decide {
        /// Site policy file
        #[arg(long)]
        config: PathBuf,
        /// Request id
        id: String,
        /// fulfil, partly or refuse
        outcome: String,
        /// The refusal reason (its number in the policy's list, or its words)
        #[arg(long)]
        reason: Option<String>,
        /// A note for the record
        #[arg(long, default_value = "")]
        note: String,
        /// Who decides [env: GARIM_USER]
        #[arg(long)]
        user: Option<String>,
    },
    /// Answer 존재확인 from the index and the ledger (exists / destroyed on DATE / never recorded)
    Existence {
        /// Site policy file
        #[arg(long)]
        config: PathBuf,
        /// Request id
        id: String,
        /// Who answers [env: GARIM_USER]
        #[arg(long)]
        user: Option<String>,
    },
    /// Render the 청구서 and (once decided) the 결정·거부 통지서 as HTML and PDF into a folder
    Print {
        /// Site policy file
        #[arg(long)]
        config: PathBuf,
        /// Request id
        id: String,
        /// Folder to write into (made if missing)
        #[arg(long)]
        out: PathBuf,
        /// Who prints [env: GARIM_USER]
        #[arg(long)]
        user: Option<String>,
    },
}

fn time(flag: &str, v: &str) -> Result<i64> {
    vault::time::read_time(v).map_err(|e| anyhow!("{flag}: {e}"))
}

/// Calls the service and prints its JSON answer; an error status becomes the error it names.
fn call(
    config: &Path,
    user: Option<&str>,
    method: &str,
    path: &str,
    body: serde_json::Value,
) -> Result<()> {
    let cfg = site::runtime::read_policy(config, &|_| {})?.0;
    let (status, v) = client::call_service(&cfg, user, method, path, body)?;
    if status >= 300 {
        return Err(anyhow!(
            "{} ({status})",
            v["error"].as_str().unwrap_or("refused")
        ));
    }
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(())
}

pub fn request(c: RequestCommand) -> Result<()> {
    match c {
        RequestCommand::New {
            config,
            kind,
            requester,
            contact,
            cameras,
            from,
            to,
            description,
            identity_check,
            user,
        } => call(
            &config,
            user.as_deref(),
            "POST",
            "/api/v1/requests",
            serde_json::json!({
                "type": kind, "requester": requester, "contact": contact, "cameras": cameras,
                "from": time("--from", &from)?, "to": time("--to", &to)?,
                "description": description, "identity_check": identity_check,
            }),
        ),
        RequestCommand::List { config, user } => call(
            &config,
            user.as_deref(),
            "GET",
            "/api/v1/requests",
            serde_json::Value::Null,
        ),
        RequestCommand::Show { config, id, user } => call(
            &config,
            user.as_deref(),
            "GET",
            &format!("/api/v1/requests/{}", path_id(&id)?),
            serde_json::Value::Null,
        ),
        RequestCommand::State {
            config,
            id,
            to,
            note,
            user,
        } => call(
            &config,
            user.as_deref(),
            "POST",
            &format!("/api/v1/requests/{}/state", path_id(&id)?),
            serde_json::json!({"to": to, "note": note}),
        ),
        RequestCommand::Decide {
            config,
            id,
            outcome,
            reason,
            note,
            user,
        } => call(
            &config,
            user.as_deref(),
            "POST",
            &format!("/api/v1/requests/{}/decision", path_id(&id)?),
            serde_json::json!({"outcome": outcome, "reason": reason, "note": note}),
        ),
        RequestCommand::Existence { config, id, user } => call(
            &config,
            user.as_deref(),
            "POST",
            &format!("/api/v1/requests/{}/existence", path_id(&id)?),
            serde_json::Value::Null,
        ),
        RequestCommand::Print {
            config,
            id,
            out,
            user,
        } => print(&config, &id, &out, user.as_deref()),
    }
}

/// Request ids go into URL paths: only their own characters.
fn path_id(id: &str) -> Result<&str> {
    if !id.is_empty()
        && id.len() <= 40
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        Ok(id)
    } else {
        Err(anyhow!("{id:?} is not a request id (like DSR-2026-0001)"))
    }
}

/// The documents of a request, rendered from the site's records and policy (the same text the notice uses).
fn print(config: &Path, id: &str, out: &Path, user: Option<&str>) -> Result<()> {
    let cfg = site::runtime::read_policy(config, &|_| {})?.0;
    let records = site::open_records(&cfg)?;
    let me = client::login(&records, user)?;
    me.require(access::Permission::ReadRequests)
        .map_err(|e| anyhow!("{e}"))?;
    let r = records
        .requests()
        .subject(path_id(id)?)
        .ok()
        .filter(|r| r.cameras.iter().all(|c| me.may_see_camera(c)))
        .ok_or_else(|| anyhow!("no request {id:?}"))?;
    std::fs::create_dir_all(out)?;
    let mut docs = vec![("claim", forms::claim_form(&cfg, &r))];
    match forms::decision_notice(&cfg, &r) {
        Ok(html) => docs.push(("notice", html)),
        Err(why) => println!("no notice yet: {why}"),
    }
    for (name, html) in docs {
        let stem = format!("{}-{name}", r.id);
        let html_path = out.join(format!("{stem}.html"));
        write_private(&html_path, html.as_bytes())?;
        let pdf = out.join(format!("{stem}.pdf"));
        forms::to_pdf(&html, &pdf).map_err(|e| anyhow!("{}: {e}", pdf.display()))?;
        println!("{}\n{}", html_path.display(), pdf.display());
    }
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("part");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// `garim keys sealed-init`: a new sealed key split among the managers; prints the public key for the policy.
pub fn sealed_init(config: &Path, user: Option<&str>) -> Result<()> {
    let cfg = site::runtime::read_policy(config, &|_| {})?.0;
    let records = site::open_records(&cfg)?;
    let me = client::login(&records, user)?;
    let k = cfg.requests.sealed_threshold as usize;
    let public = site::custody::sealed_init(&records, &me, &cfg)?;
    let holders = records
        .directory()
        .custody_of(&vault::SealedPublicKey::parse(&public)?.0)?
        .map(|c| c.holders.join(", "))
        .unwrap_or_default();
    println!("sealed_public_key = \"{public}\"   # put this under [storage] in the site policy");
    println!(
        "the private key was split {k}-of-n among {holders}: it is stored nowhere, and {k} of them together open sealed recordings"
    );
    Ok(())
}

/// `garim keys sealed-split`: re-splits the policy's sealed key among today's managers, rebuilt by the acting
/// manager and the `--with` managers (each password from `GARIM_PASSWORD_<NAME>` or asked).
pub fn sealed_split(config: &Path, user: Option<&str>, with: &[String]) -> Result<()> {
    let cfg = site::runtime::read_policy(config, &|_| {})?.0;
    let public = cfg
        .storage
        .sealed_public_key
        .as_deref()
        .ok_or_else(|| anyhow!("storage.sealed_public_key: the policy names no sealed key"))?;
    let public = vault::SealedPublicKey::parse(public)?.0;
    let records = site::open_records(&cfg)?;
    let name = client::user_name(user)?;
    let pw = client::password(&name)?;
    let me = records
        .accounts
        .login(&name, &pw, access::SessionKind::Bearer, "cli")
        .map(|(_, p)| p)
        .map_err(|e| anyhow!("login as {name}: {e}"))?;
    let mut approvers = vec![(name.clone(), pw)];
    for other in with {
        let var = format!(
            "GARIM_PASSWORD_{}",
            other
                .to_uppercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        );
        let pw = match std::env::var(&var) {
            Ok(p) => access::Password::from(p),
            Err(_) => access::Password::from(
                rpassword::prompt_password(format!("password for {other}: "))
                    .map_err(|e| anyhow!("cannot read {other}'s password ({e}); set {var}"))?,
            ),
        };
        approvers.push((other.clone(), pw));
    }
    let k = cfg.requests.sealed_threshold as usize;
    let holders = site::custody::reshare(&records, &me, &cfg, &public, &approvers)?;
    println!(
        "the sealed key is split {k}-of-{} among {}",
        holders.len(),
        holders.join(", ")
    );
    Ok(())
}
