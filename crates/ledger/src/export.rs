//! The 관리대장 as the Decree's form renders it, for the person in charge to print or hand over: CSV (UTF-8
//! with a BOM, so Excel reads the Korean) and XLSX, with the form's columns in its order and then the
//! columns that let a reader check the chain by hand (who acted, from where, and the two hashes).

use crate::time::format_kst;
use crate::{LedgerError, Row};
use rust_xlsxwriter::{Format, FormatBorder, Workbook};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The column headers, in order: the form's ten, then 처리자, 접속지 and the hashes.
pub const HEADERS: [&str; 14] = [
    "번호",
    "구분",
    "일시",
    "파일명/형태",
    "목적/사유",
    "이용·제공받는 제3자/열람등 요구자",
    "이용·제공 근거",
    "이용·제공 형태",
    "기간",
    "관리책임자",
    "처리자",
    "접속지",
    "이전 행 해시",
    "행 해시",
];

/// Column widths in Excel character units, in HEADERS order (Hangul counts about two).
const WIDTHS: [f64; 14] = [
    8.0, 12.0, 20.0, 36.0, 28.0, 30.0, 24.0, 16.0, 14.0, 14.0, 14.0, 16.0, 20.0, 20.0,
];

fn cells(r: &Row) -> [String; 14] {
    let e = &r.entry;
    [
        r.seq.to_string(),
        e.kind.korean().to_string(),
        format_kst(r.at_ms),
        e.subject.clone(),
        e.purpose.clone(),
        e.recipient.clone(),
        e.basis.clone(),
        e.form.clone(),
        e.period.clone(),
        e.manager.clone(),
        e.actor.clone(),
        e.client.clone(),
        r.prev_hash.clone(),
        r.hash.clone(),
    ]
}

/// Writes the rows as CSV: a UTF-8 BOM, the header line, one record per row, RFC 4180 quoting, CRLF.
pub fn export_csv(rows: &[Row], mut w: impl Write) -> Result<(), LedgerError> {
    let err = |e: String| LedgerError::Export {
        path: "csv".into(),
        reason: e,
    };
    // Without the BOM, Excel opens UTF-8 CSV in the legacy code page and the Korean is garbled.
    w.write_all("\u{feff}".as_bytes())
        .map_err(|e| err(e.to_string()))?;
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(w);
    out.write_record(HEADERS).map_err(|e| err(e.to_string()))?;
    for r in rows {
        let record: Vec<String> = cells(r).into_iter().map(defuse).collect();
        out.write_record(record).map_err(|e| err(e.to_string()))?;
    }
    out.flush().map_err(|e| err(e.to_string()))
}

/// A text cell that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a leading
/// apostrophe: purposes, recipients and failed login names come from outside, and an auditor opening the
/// export must not run what someone typed. (XLSX cells are written as strings and need no such care.)
fn defuse(cell: String) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell,
    }
}

/// Excel's limit on the text of one cell.
const CELL_MAX_CHARS: usize = 32_767;

/// Writes the rows as an XLSX workbook with one sheet, 관리대장: bold header, fixed widths, the header row
/// frozen and filterable. The file is created 0600: the ledger names people and what they looked at.
pub fn export_xlsx(rows: &[Row], path: &Path) -> Result<(), LedgerError> {
    let err = |e: String| LedgerError::Export {
        path: path.display().to_string(),
        reason: e,
    };
    let x = |e: rust_xlsxwriter::XlsxError| err(e.to_string());
    if rows.len() >= 1_048_576 {
        return Err(err(format!(
            "{} rows do not fit one sheet (at most 1048575); export a shorter period",
            rows.len()
        )));
    }
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("관리대장").map_err(x)?;
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_border(FormatBorder::Thin)
        .set_background_color("#D9E1F2");
    let body = Format::new().set_border(FormatBorder::Thin);
    for (col, (h, width)) in HEADERS.iter().zip(WIDTHS).enumerate() {
        let col = col as u16;
        sheet.set_column_width(col, width).map_err(x)?;
        sheet
            .write_string_with_format(0, col, *h, &header)
            .map_err(x)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        sheet
            .write_number_with_format(row, 0, r.seq as f64, &body)
            .map_err(x)?;
        for (col, text) in cells(r).iter().enumerate().skip(1) {
            let text = if text.chars().count() > CELL_MAX_CHARS {
                let cut: String = text.chars().take(CELL_MAX_CHARS - 1).collect();
                cut + "…"
            } else {
                text.clone()
            };
            sheet
                .write_string_with_format(row, col as u16, text, &body)
                .map_err(x)?;
        }
    }
    sheet.set_freeze_panes(1, 0).map_err(x)?;
    sheet
        .autofilter(0, 0, rows.len() as u32, HEADERS.len() as u16 - 1)
        .map_err(x)?;
    let bytes = book.save_to_buffer().map_err(x)?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| err(e.to_string()))?;
    f.write_all(&bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| err(e.to_string()))
}

#[cfg(test)]
mod formula_tests {
    use super::*;

    #[test]
    fn cells_that_look_like_formulas_are_written_as_text() {
        assert_eq!(
            defuse("=HYPERLINK(\"http://x\")".into()),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(defuse("@SUM(A1)".into()), "'@SUM(A1)");
        assert_eq!(defuse("-1+2".into()), "'-1+2");
        assert_eq!(defuse("incident 3".into()), "incident 3");
        assert_eq!(defuse(String::new()), "");
    }
}
