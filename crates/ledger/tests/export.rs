//! The rendered 관리대장: CSV read back with the csv crate, and the XLSX workbook unzipped to find its sheet,
//! its header strings, the bold header and the frozen first row.

mod common;

use common::*;
use ledger::{Entry, HEADERS, Kind, Ledger, Row, export_csv, export_xlsx};
use std::io::Read;
use std::os::unix::fs::PermissionsExt;

const FORM: [&str; 10] = [
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
];

fn rows() -> Vec<Row> {
    let dir = work("export-rows");
    // 2026-12-01 17:05:09 KST.
    let l = Ledger::open_sqlite(&dir.join("l.db"))
        .unwrap()
        .with_clock(std::sync::Arc::new(|| 1_796_112_309_000));
    let provide = Entry {
        purpose: "범죄 수사, \"긴급\"\n두 번째 줄".into(),
        recipient: "서울 경찰청".into(),
        basis: "개인정보 보호법 제18조제2항제7호".into(),
        form: "사본 제공".into(),
        period: "30일".into(),
        manager: "김관리".into(),
        client: "10.0.0.5".into(),
        ..Entry::new(Kind::Provide, "lee", "cam-1 2026-12-01 08:00–08:10")
    };
    let rows = vec![
        l.append(provide).unwrap(),
        l.append(Entry::new(Kind::Destroy, "system", "cam-2 2026-11-01"))
            .unwrap(),
    ];
    std::fs::remove_dir_all(dir).unwrap();
    rows
}

#[test]
fn csv_has_the_form_headers_and_round_trips() {
    assert_eq!(HEADERS[..10], FORM);
    assert_eq!(
        HEADERS[10..],
        ["처리자", "접속지", "이전 행 해시", "행 해시"]
    );
    let rows = rows();
    let mut out = Vec::new();
    export_csv(&rows, &mut out).unwrap();
    assert!(out.starts_with("\u{feff}".as_bytes()), "no BOM");
    let mut r = csv::Reader::from_reader(&out[3..]);
    assert_eq!(r.headers().unwrap().iter().collect::<Vec<_>>(), HEADERS);
    let records: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 2);
    let first: Vec<&str> = records[0].iter().collect();
    assert_eq!(first[0], "1");
    assert_eq!(first[1], "제공");
    assert_eq!(first[2], "2026-12-01 17:05:09");
    assert_eq!(first[3], rows[0].entry.subject);
    assert_eq!(first[4], "범죄 수사, \"긴급\"\n두 번째 줄");
    assert_eq!(first[5], "서울 경찰청");
    assert_eq!(first[9], "김관리");
    assert_eq!((first[10], first[11]), ("lee", "10.0.0.5"));
    assert_eq!(
        (first[12], first[13]),
        (rows[0].prev_hash.as_str(), rows[0].hash.as_str())
    );
    assert_eq!(&records[1][1], "파기");
    // RFC 4180: the field with a quote is quoted, its quote doubled, records end in CRLF.
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("\"범죄 수사, \"\"긴급\"\"\n두 번째 줄\""),
        "{text}"
    );
    assert!(text.contains("\r\n"));
}

#[test]
fn xlsx_has_one_form_sheet_with_bold_frozen_headers() {
    let rows = rows();
    let dir = work("export-xlsx");
    let path = dir.join("관리대장.xlsx");
    export_xlsx(&rows, &path).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut part = |name: &str| {
        let mut s = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    };
    let workbook = part("xl/workbook.xml");
    assert!(workbook.contains("name=\"관리대장\""), "{workbook}");
    assert_eq!(workbook.matches("<sheet ").count(), 1);
    let strings = part("xl/sharedStrings.xml");
    for h in HEADERS {
        assert!(
            strings.contains(&format!(">{h}<")),
            "{h} missing: {strings}"
        );
    }
    assert!(strings.contains(">서울 경찰청<") && strings.contains(">2026-12-01 17:05:09<"));
    let sheet = part("xl/worksheets/sheet1.xml");
    assert!(
        sheet.contains("ySplit=\"1\"") && sheet.contains("state=\"frozen\""),
        "{sheet}"
    );
    assert!(sheet.contains("<col "), "column widths: {sheet}");
    assert!(part("xl/styles.xml").contains("<b/>"));
    std::fs::remove_dir_all(dir).unwrap();
}
