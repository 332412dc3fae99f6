//! `garim user …` and `garim ledger …`: user administration and the 관리대장 on the host, each done by a named
//! user who logs in first (ledgered), except the very first manager of an empty directory, which is made on
//! the host (there is no default account).

use crate::client;
use anyhow::{Result, anyhow};
use clap::Subcommand;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user (the first user of a site must be a manager and needs no login) — the new user's password
    /// is asked, or taken from GARIM_NEW_PASSWORD
    Add {
        /// Site policy file
        #[arg(long)]
        config: PathBuf,
        /// Login name (1–64 of A-Z a-z 0-9 . _ -)
        name: String,
        /// manager (관리책임자), access (접근권한자), handler (취급자), contractor (수탁업체) or auditor
        #[arg(long)]
        role: String,
        /// The policy `people` id (or, for a contractor, its `contractors` id) this user is
        #[arg(long)]
        person: Option<String>,
        /// The manager doing this [env: GARIM_USER]
        #[arg(long)]
        user: Option<String>,
    },
    /// List users and their roles
    List {
        /// Site policy file
        #[arg(long)]
        config: PathBuf,
        /// The manager asking [env: GARIM_USER]
        #[arg(long)]
        user: Option<String>,
    },
    /// Disable a user (ends its sessions)
    Disable {
        /// Site policy file
        #[arg(long)]
        config: PathBuf,
        /// The user's login name
        name: String,
        /// The manager doing this [env: GARIM_USER]
        #[arg(long)]
        user: Option<String>,
        /// Go ahead even where it leaves fewer than k managers able to open the sealed key: the sealed
        /// recordings under it can then never be opened again
        #[arg(long)]
        allow_sealed_lockout: bool,
    },
    /// Set a user's password (GARIM_NEW_PASSWORD or asked); ends its other sessions
    Passwd {
        /// Site policy file
        #[arg(long)]
        config: PathBuf,
        /// The user's login name
        name: String,
        /// Who is doing this: the user itself, or a manager [env: GARIM_USER]
        #[arg(long)]
        user: Option<String>,
        /// Go ahead even where it leaves fewer than k managers able to open the sealed key: the sealed
        /// recordings under it can then never be opened again
        #[arg(long)]
        allow_sealed_lockout: bool,
    },
    /// Change a user's role
    SetRole {
        /// Site policy file
        #[arg(long)]
        config: PathBuf,
        /// The user's login name
        name: String,
        /// The new role: manager, access, handler, contractor or auditor
        role: String,
        /// The manager doing this [env: GARIM_USER]
        #[arg(long)]
        user: Option<String>,
        /// Go ahead even where it leaves fewer than k managers able to open the sealed key: the sealed
        /// recordings under it can then never be opened again
        #[arg(long)]
        allow_sealed_lockout: bool,
    },
}

#[derive(Subcommand)]
pub enum InspectionCommand {
    /// The 점검대장: every inspection, signed or not
    List {
        /// Site policy file
        #[arg(long)]
        config: PathBuf,
        /// Who is asking (manager, handler or auditor) [env: GARIM_USER]
        #[arg(long)]
        user: Option<String>,
    },
    /// Inspect the site now (asks the running service, which knows the cameras' state)
    Run {
        /// Site policy file
        #[arg(long)]
        config: PathBuf,
        /// Who is inspecting (manager or handler) [env: GARIM_USER]
        #[arg(long)]
        user: Option<String>,
    },
    /// A manager countersigns an inspection (확인)
    Sign {
        /// Site policy file
        #[arg(long)]
        config: PathBuf,
        /// The inspection's number
        id: u64,
        /// A remark written with the signature
        #[arg(long)]
        note: Option<String>,
        /// The manager signing [env: GARIM_USER]
        #[arg(long)]
        user: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum LedgerCommand {
    /// Check the hash chain and the signed checkpoints; names the first broken row (exit 1 when broken)
    Verify {
        /// Site policy file
        #[arg(long)]
        config: PathBuf,
    },
    /// The 관리대장 as CSV or XLSX (the form's Korean columns), as a logged-in manager or auditor
    Export {
        /// Site policy file
        #[arg(long)]
        config: PathBuf,
        /// csv or xlsx
        #[arg(long, default_value = "csv")]
        format: String,
        /// From (2026-11-24T09:00:00Z, 2026-11-24 or unix seconds)
        #[arg(long)]
        from: Option<String>,
        /// To (same forms as --from)
        #[arg(long)]
        to: Option<String>,
        /// Only these kinds, comma-separated (use, provide, view, destroy, login, login_failed, …)
        #[arg(long)]
        kind: Option<String>,
        /// Who is exporting [env: GARIM_USER]
        #[arg(long)]
        user: Option<String>,
        /// Output file
        out: PathBuf,
    },
    /// The monthly access review (Decree Art. 30): who viewed or exported what, accesses off hours, failed
    /// logins, contractor activity; `--sign` records a manager's signature of it in the ledger
    Review {
        /// Site policy file
        #[arg(long)]
        config: PathBuf,
        /// The month, YYYY-MM (KST)
        #[arg(long)]
        month: String,
        /// Sign the review as reviewed (manager)
        #[arg(long)]
        sign: bool,
        /// Who is reviewing (manager or auditor; signing needs a manager) [env: GARIM_USER]
        #[arg(long)]
        user: Option<String>,
    },
}

fn records(config: &Path) -> Result<site::Records> {
    let cfg = crate::service::load_config(config)?;
    site::open_records(&cfg)
}

fn check_person(config: &Path, role: access::Role, person: Option<&str>) -> Result<()> {
    let cfg = crate::service::load_config(config)?;
    site::records::check_person(&cfg, role, person).map_err(|e| anyhow!("--person: {e}"))
}

fn new_password(name: &str) -> Result<access::Password> {
    if let Ok(p) = std::env::var("GARIM_NEW_PASSWORD") {
        return Ok(access::Password::from(p));
    }
    let a = rpassword::prompt_password(format!("new password for {name}: "))?;
    let b = rpassword::prompt_password("again: ")?;
    if a != b {
        return Err(anyhow!("the two passwords differ"));
    }
    Ok(access::Password::from(a))
}

fn role(s: &str) -> Result<access::Role> {
    access::Role::parse(s).map_err(|e| anyhow!("--role: {e}"))
}

fn show(u: &access::User) {
    println!(
        "{:<20} {:<11} {:<14} {}",
        u.name,
        u.role.to_string(),
        u.person_id.as_deref().unwrap_or("-"),
        if u.disabled { "disabled" } else { "enabled" }
    );
}

pub fn user(cmd: UserCommand) -> Result<()> {
    match cmd {
        UserCommand::Add {
            config,
            name,
            role: r,
            person,
            user,
        } => {
            let rec = records(&config)?;
            let r = role(&r)?;
            check_person(&config, r, person.as_deref())?;
            if rec.directory().is_empty()? {
                if r != access::Role::Manager {
                    return Err(anyhow!(
                        "the site has no users yet: the first one must be a manager (--role manager)"
                    ));
                }
                let pw = new_password(&name)?;
                let u = rec.accounts.bootstrap(&name, &pw, person.as_deref())?;
                println!("first manager created:");
                show(&u);
                return Ok(());
            }
            let me = client::login(&rec, user.as_deref())?;
            let pw = new_password(&name)?;
            let u = rec
                .accounts
                .add(&me, "cli", &name, r, &pw, person.as_deref())?;
            show(&u);
        }
        UserCommand::List { config, user } => {
            let rec = records(&config)?;
            let me = client::login(&rec, user.as_deref())?;
            for u in rec.accounts.list(&me)? {
                show(&u);
            }
        }
        UserCommand::Disable {
            config,
            name,
            user,
            allow_sealed_lockout,
        } => {
            let rec = records(&config)?;
            let me = client::login(&rec, user.as_deref())?;
            show(
                &rec.accounts
                    .disable(&me, "cli", &name, lockout(allow_sealed_lockout))?,
            );
        }
        UserCommand::Passwd {
            config,
            name,
            user,
            allow_sealed_lockout,
        } => {
            let rec = records(&config)?;
            let acting = client::user_name(user.as_deref())?;
            let current = client::password(&acting)?;
            let (_, me) = rec
                .accounts
                .login(&acting, &current, access::SessionKind::Bearer, "cli")
                .map_err(|e| anyhow!("login as {acting}: {e}"))?;
            let pw = new_password(&name)?;
            show(&rec.accounts.set_password(
                &me,
                "cli",
                &name,
                &pw,
                Some(&current),
                lockout(allow_sealed_lockout),
            )?);
        }
        UserCommand::SetRole {
            config,
            name,
            role: r,
            user,
            allow_sealed_lockout,
        } => {
            let rec = records(&config)?;
            let me = client::login(&rec, user.as_deref())?;
            show(&rec.accounts.set_role(
                &me,
                "cli",
                &name,
                role(&r)?,
                lockout(allow_sealed_lockout),
            )?);
        }
    }
    Ok(())
}

fn lockout(allowed: bool) -> access::SealedLockout {
    if allowed {
        access::SealedLockout::Accept
    } else {
        access::SealedLockout::Refuse
    }
}

fn time_ms(flag: &str, v: Option<&str>) -> Result<Option<i64>> {
    v.map(|s| {
        vault::time::read_time(s)
            .map(|t| t * 1000)
            .map_err(|e| anyhow!("{flag}: {e}"))
    })
    .transpose()
}

fn show_inspection(i: &ledger::Inspection) {
    println!(
        "{:>5}  {}  {:<9} {:<4}  {}",
        i.id,
        ledger::time::format_kst(i.at_ms),
        i.kind.name(),
        if i.ok { "ok" } else { "FAIL" },
        match (&i.signed_by, i.signed_at_ms) {
            (Some(by), Some(at)) => format!("signed by {by} at {}", ledger::time::format_kst(at)),
            _ => "not signed".to_string(),
        }
    );
}

pub fn inspection(cmd: InspectionCommand) -> Result<()> {
    match cmd {
        InspectionCommand::List { config, user } => {
            let rec = records(&config)?;
            let me = client::login(&rec, user.as_deref())?;
            me.require(access::Permission::ReadInspections)
                .map_err(|e| anyhow!("{e}"))?;
            for i in rec.ledger().inspections(None)? {
                show_inspection(&i);
            }
        }
        InspectionCommand::Run { config, user } => {
            let cfg = crate::service::load_config(&config)?;
            let (status, v) = client::call_service(
                &cfg,
                user.as_deref(),
                "POST",
                "/api/v1/inspections",
                serde_json::json!({}),
            )?;
            if status != 201 {
                return Err(anyhow!(
                    "inspection refused ({status}): {}",
                    v["error"].as_str().unwrap_or_default()
                ));
            }
            let i: ledger::Inspection = serde_json::from_value(v)?;
            show_inspection(&i);
        }
        InspectionCommand::Sign {
            config,
            id,
            note,
            user,
        } => {
            let rec = records(&config)?;
            let me = client::login(&rec, user.as_deref())?;
            me.require(access::Permission::SignInspection)
                .map_err(|e| anyhow!("{e}"))?;
            show_inspection(&rec.ledger().countersign(id, &me.user, note.as_deref())?);
        }
    }
    Ok(())
}

pub fn ledger(cmd: LedgerCommand) -> Result<()> {
    match cmd {
        LedgerCommand::Review {
            config,
            month,
            sign,
            user,
        } => {
            let rec = records(&config)?;
            let me = client::login(&rec, user.as_deref())?;
            me.require(access::Permission::ReadLedger)
                .map_err(|e| anyhow!("{e}"))?;
            let review = ledger::review::month_review(rec.ledger(), &month)
                .map_err(|e| anyhow!("--month: {e}"))?;
            print!("{}", review.markdown);
            if sign {
                me.require(access::Permission::SignReview)
                    .map_err(|e| anyhow!("{e}"))?;
                let row = rec
                    .ledger()
                    .append(ledger::review::signature(&review, &me.user, "cli"))?;
                println!("\nsigned by {} (ledger row {})", me.user, row.seq);
            }
            Ok(())
        }
        LedgerCommand::Verify { config } => {
            let rec = records(&config)?;
            let r = rec.verify()?;
            let head = r.head.as_ref().map_or("empty".to_string(), |(seq, hash)| {
                format!("head row {seq} {}", &hash[..16])
            });
            match &r.problem {
                None => {
                    println!("ledger ok: {} rows, {head}", r.rows);
                    Ok(())
                }
                Some(p) => Err(anyhow!("ledger BROKEN: {p} ({} rows read, {head})", r.rows)),
            }
        }
        LedgerCommand::Export {
            config,
            format,
            from,
            to,
            kind,
            user,
            out,
        } => {
            let rec = records(&config)?;
            let me = client::login(&rec, user.as_deref())?;
            me.require(access::Permission::ExportLedger)
                .map_err(|e| anyhow!("{e}"))?;
            let xlsx = match format.as_str() {
                "csv" => false,
                "xlsx" => true,
                other => return Err(anyhow!("--format: {other:?} is not csv or xlsx")),
            };
            let mut kinds = Vec::new();
            for k in kind
                .as_deref()
                .unwrap_or("")
                .split(',')
                .filter(|k| !k.is_empty())
            {
                kinds.push(ledger::Kind::parse(k).map_err(|e| anyhow!("--kind: {e}"))?);
            }
            let filter = ledger::Filter {
                from_ms: time_ms("--from", from.as_deref())?,
                to_ms: time_ms("--to", to.as_deref())?,
                kinds,
                ..ledger::Filter::default()
            };
            let rows = rec.ledger().list(&ledger::Filter {
                limit: Some(ledger::MAX_EXPORT_ROWS + 1),
                ..filter
            })?;
            if rows.len() > ledger::MAX_EXPORT_ROWS {
                return Err(anyhow!(
                    "more than {} rows in the period: export a shorter one (--from/--to)",
                    ledger::MAX_EXPORT_ROWS
                ));
            }
            // The export's own row before the file is written.
            rec.ledger().append(ledger::Entry {
                kind: ledger::Kind::Use,
                actor: me.user.clone(),
                subject: "관리대장".into(),
                purpose: "ledger export".into(),
                form: format.clone(),
                client: "cli".into(),
                detail: serde_json::json!({"role": me.role, "rows": rows.len(), "file": out.display().to_string()}),
                ..ledger::Entry::default()
            })?;
            let tmp = out.with_extension("part");
            if xlsx {
                ledger::export_xlsx(&rows, &tmp)?;
            } else {
                let f = std::fs::File::create(&tmp)?;
                ledger::export_csv(&rows, std::io::BufWriter::new(f))?;
            }
            std::fs::File::open(&tmp)?.sync_all()?;
            std::fs::rename(&tmp, &out)?;
            println!("{} rows written to {}", rows.len(), out.display());
            Ok(())
        }
    }
}
