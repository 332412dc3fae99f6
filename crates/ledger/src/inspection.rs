//! The 점검대장: the daily and on-demand inspections of the system (their machine-readable report and
//! whether it passed), each countersigned once by the person in charge. An inspection and its ledger row
//! (Kind::Inspection, Kind::Countersign) commit in one transaction, and the row carries the report's
//! SHA-256, so the chain vouches for the report too.

use crate::store::{Reader, Tx, TxDb, Where};
use crate::{Entry, Kind, Ledger, LedgerError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InspectionKind {
    /// 일일 점검, run by the service.
    Daily,
    /// 수시 점검, asked for by a user.
    OnDemand,
}

impl InspectionKind {
    pub fn name(self) -> &'static str {
        match self {
            InspectionKind::Daily => "daily",
            InspectionKind::OnDemand => "on_demand",
        }
    }

    pub fn korean(self) -> &'static str {
        match self {
            InspectionKind::Daily => "일일 점검",
            InspectionKind::OnDemand => "수시 점검",
        }
    }

    pub fn parse(s: &str) -> Result<InspectionKind, LedgerError> {
        match s {
            "daily" => Ok(InspectionKind::Daily),
            "on_demand" => Ok(InspectionKind::OnDemand),
            _ => Err(LedgerError::Invalid(format!(
                "unknown inspection kind {s:?}: expected daily or on_demand"
            ))),
        }
    }
}

/// One line of the 점검대장.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Inspection {
    pub id: u64,
    pub at_ms: i64,
    pub kind: InspectionKind,
    pub report: serde_json::Value,
    pub ok: bool,
    /// The manager who countersigned it.
    pub signed_by: Option<String>,
    pub signed_at_ms: Option<i64>,
    pub note: Option<String>,
}

impl Inspection {
    /// The SHA-256 (hex) of the report as stored, which its ledger rows carry.
    pub fn report_sha256(&self) -> String {
        report_sha256(&crate::compact(&self.report))
    }
}

fn report_sha256(stored: &str) -> String {
    hex::encode(Sha256::digest(stored.as_bytes()))
}

const COLUMNS: &str = "id, at_ms, kind, report, ok, signed_by, signed_at_ms, note";

impl Ledger {
    /// Stores an inspection and appends its Kind::Inspection row, together.
    pub fn record_inspection(
        &self,
        kind: InspectionKind,
        report: serde_json::Value,
        ok: bool,
        actor: &str,
    ) -> Result<Inspection, LedgerError> {
        let actor = actor.to_string();
        self.append_with(move |tx| {
            let at_ms = tx.now_ms();
            let stored = crate::compact(&report);
            let id = next_id(tx)?;
            let w = tx.w;
            match &mut tx.db {
                TxDb::Sqlite(c) => c
                    .execute(
                        &format!("INSERT INTO ledger_inspections ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, NULL, NULL, NULL)"),
                        rusqlite::params![id as i64, at_ms, kind.name(), stored, ok],
                    )
                    .map(drop)
                    .map_err(|e| w.sql(e))?,
                TxDb::Postgres { client, .. } => client
                    .execute(
                        &format!("INSERT INTO ledger_inspections ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, NULL, NULL, NULL)"),
                        &[&(id as i64), &at_ms, &kind.name(), &stored, &ok],
                    )
                    .map(drop)
                    .map_err(|e| w.pg(&e))?,
            }
            let entry = Entry {
                purpose: format!("{} ({})", kind.korean(), if ok { "정상" } else { "이상" }),
                client: "service".into(),
                detail: json!({
                    "inspection_id": id,
                    "inspection_kind": kind,
                    "ok": ok,
                    "report_sha256": report_sha256(&stored),
                }),
                ..Entry::new(Kind::Inspection, actor, format!("점검 #{id}"))
            };
            tx.append_at(entry, at_ms)?;
            Ok(Inspection {
                id,
                at_ms,
                kind,
                report,
                ok,
                signed_by: None,
                signed_at_ms: None,
                note: None,
            })
        })
    }

    /// The manager's countersignature of inspection `id`, with its Kind::Countersign row. Refuses an unknown
    /// id and one already signed.
    pub fn countersign(
        &self,
        id: u64,
        manager: &str,
        note: Option<&str>,
    ) -> Result<Inspection, LedgerError> {
        let manager = manager.to_string();
        let note = note.map(str::to_string);
        if manager.trim().is_empty() {
            return Err(LedgerError::Inspection {
                id,
                reason: "a countersignature needs the manager's name".into(),
            });
        }
        self.append_with(move |tx| {
            // Read inside the write transaction: two managers signing at once cannot both succeed.
            let mut found = tx_get(tx, id)?.ok_or_else(|| LedgerError::Inspection {
                id,
                reason: "no such inspection".into(),
            })?;
            if let Some(by) = &found.signed_by {
                return Err(LedgerError::Inspection {
                    id,
                    reason: format!(
                        "already countersigned by {by} at {}",
                        crate::time::format_kst(found.signed_at_ms.unwrap_or(0))
                    ),
                });
            }
            let at_ms = tx.now_ms();
            let w = tx.w;
            let sql = "UPDATE ledger_inspections SET signed_by = $1, signed_at_ms = $2, note = $3 \
                       WHERE id = $4 AND signed_by IS NULL";
            match &mut tx.db {
                TxDb::Sqlite(c) => c
                    .execute(
                        &sql.replace('$', "?"),
                        rusqlite::params![manager, at_ms, note, id as i64],
                    )
                    .map(drop)
                    .map_err(|e| w.sql(e))?,
                TxDb::Postgres { client, .. } => client
                    .execute(sql, &[&manager, &at_ms, &note, &(id as i64)])
                    .map(drop)
                    .map_err(|e| w.pg(&e))?,
            }
            found.signed_by = Some(manager.clone());
            found.signed_at_ms = Some(at_ms);
            found.note = note.clone();
            let entry = Entry {
                purpose: format!("{} 확인", found.kind.korean()),
                manager: manager.clone(),
                client: "service".into(),
                detail: json!({
                    "inspection_id": id,
                    "ok": found.ok,
                    "report_sha256": found.report_sha256(),
                    "note": note,
                }),
                ..Entry::new(Kind::Countersign, manager, format!("점검 #{id}"))
            };
            tx.append_at(entry, at_ms)?;
            Ok(found)
        })
    }

    pub fn inspection(&self, id: u64) -> Result<Option<Inspection>, LedgerError> {
        let mut found = self.select_inspections("id = $1", vec![id as i64])?;
        Ok(found.pop())
    }

    /// Inspections recorded at or after `since_ms` (all when None), oldest first.
    pub fn inspections(&self, since_ms: Option<i64>) -> Result<Vec<Inspection>, LedgerError> {
        self.select_inspections("at_ms >= $1", vec![since_ms.unwrap_or(i64::MIN)])
    }

    /// Inspections still without a countersignature that were recorded `age_ms` or longer before `now_ms`.
    pub fn unsigned_older_than(
        &self,
        now_ms: i64,
        age_ms: i64,
    ) -> Result<Vec<Inspection>, LedgerError> {
        self.select_inspections(
            "signed_by IS NULL AND at_ms <= $1",
            vec![now_ms.saturating_sub(age_ms)],
        )
    }

    fn select_inspections(
        &self,
        cond: &str,
        params: Vec<i64>,
    ) -> Result<Vec<Inspection>, LedgerError> {
        let sql = format!("SELECT {COLUMNS} FROM ledger_inspections WHERE {cond} ORDER BY id");
        self.read(|r, w| match r {
            Reader::Sqlite(c) => sqlite_select(c, &sql, &params, w),
            Reader::Postgres(c) => {
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    params.iter().map(|p| p as _).collect();
                c.query(&sql, &refs)
                    .map_err(|e| w.pg(&e))?
                    .iter()
                    .map(|r| pg_inspection(r, w))
                    .collect()
            }
        })
    }
}

fn next_id(tx: &mut Tx<'_>) -> Result<u64, LedgerError> {
    let sql = "SELECT COALESCE(MAX(id), 0) + 1 FROM ledger_inspections";
    let w = tx.w;
    match &mut tx.db {
        TxDb::Sqlite(c) => c
            .query_row(sql, [], |r| r.get::<_, i64>(0))
            .map_err(|e| w.sql(e)),
        TxDb::Postgres { client, .. } => client
            .query_one(sql, &[])
            .and_then(|r| r.try_get::<_, i64>(0))
            .map_err(|e| w.pg(&e)),
    }
    .map(|n| n as u64)
}

fn tx_get(tx: &mut Tx<'_>, id: u64) -> Result<Option<Inspection>, LedgerError> {
    let sql = format!("SELECT {COLUMNS} FROM ledger_inspections WHERE id = $1");
    let w = tx.w;
    match &mut tx.db {
        TxDb::Sqlite(c) => Ok(sqlite_select(c, &sql, &[id as i64], w)?.pop()),
        TxDb::Postgres { client, .. } => client
            .query_opt(&sql, &[&(id as i64)])
            .map_err(|e| w.pg(&e))?
            .map(|r| pg_inspection(&r, w))
            .transpose(),
    }
}

fn sqlite_select(
    c: &rusqlite::Connection,
    sql: &str,
    params: &[i64],
    w: &Where,
) -> Result<Vec<Inspection>, LedgerError> {
    let mut stmt = c
        .prepare_cached(&sql.replace('$', "?"))
        .map_err(|e| w.sql(e))?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params))
        .map_err(|e| w.sql(e))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(|e| w.sql(e))? {
        let get = || -> rusqlite::Result<_> {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, bool>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<i64>>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        };
        out.push(decode(get().map_err(|e| w.sql(e))?, w)?);
    }
    Ok(out)
}

type Columns = (
    i64,
    i64,
    String,
    String,
    bool,
    Option<String>,
    Option<i64>,
    Option<String>,
);

fn pg_inspection(r: &postgres::Row, w: &Where) -> Result<Inspection, LedgerError> {
    let get = || -> Result<Columns, postgres::Error> {
        Ok((
            r.try_get(0)?,
            r.try_get(1)?,
            r.try_get(2)?,
            r.try_get(3)?,
            r.try_get(4)?,
            r.try_get(5)?,
            r.try_get(6)?,
            r.try_get(7)?,
        ))
    };
    decode(get().map_err(|e| w.pg(&e))?, w)
}

fn decode(c: Columns, w: &Where) -> Result<Inspection, LedgerError> {
    let (id, at_ms, kind, report, ok, signed_by, signed_at_ms, note) = c;
    let kind = InspectionKind::parse(&kind).map_err(|e| w.msg(format!("inspection {id}: {e}")))?;
    let report = serde_json::from_str(&report)
        .map_err(|e| w.msg(format!("inspection {id}: report is not JSON: {e}")))?;
    Ok(Inspection {
        id: id as u64,
        at_ms,
        kind,
        report,
        ok,
        signed_by,
        signed_at_ms,
        note,
    })
}
