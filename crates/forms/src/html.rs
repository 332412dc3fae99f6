//! The print-ready A4 page the forms share, in the layout of the official Korean forms: a centred title, a
//! strip of 접수·통지 numbers, a ruled table whose grey left column groups the fields, a declaration, the date,
//! and the addressee. Text enters only through `Html::text`, which escapes it, so a name holding markup is
//! shown, never run.

/// Markup that is safe to write out: built from escaped text, from the fixed markup of this module, or from
/// `&'static` literals of this crate (never from a request or a policy).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Html(String);

impl Html {
    pub(crate) fn text(s: &str) -> Html {
        Html(esc(s))
    }

    /// Escaped text, or "-" for nothing (a form shows an empty answer as "-", as notices do).
    pub(crate) fn text_or_dash(s: &str) -> Html {
        Html::text(if s.trim().is_empty() { "-" } else { s })
    }

    pub(crate) fn literal(s: &'static str) -> Html {
        Html(s.to_string())
    }

    pub(crate) fn push(&mut self, other: Html) -> &mut Html {
        self.0.push_str(&other.0);
        self
    }

    #[cfg(test)]
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The text wrapped in a block that keeps its line breaks.
    pub(crate) fn lines(s: &str) -> Html {
        Html(format!(
            "<div class=\"text\">{}</div>",
            Html::text_or_dash(s).0
        ))
    }

    /// One line per item.
    pub(crate) fn list(items: impl IntoIterator<Item = Html>) -> Html {
        let mut out = String::from("<ul>");
        for it in items {
            out.push_str(&format!("<li>{}</li>", it.0));
        }
        out.push_str("</ul>");
        Html(out)
    }

    /// A row of check boxes, the chosen ones ☑ and the others ☐, as the official forms mark them.
    pub(crate) fn choices(options: &[(&str, bool)]) -> Html {
        let boxes: Vec<String> = options
            .iter()
            .map(|(label, chosen)| {
                let (mark, class) = if *chosen {
                    ("☑", "choice chosen")
                } else {
                    ("☐", "choice")
                };
                format!("<span class=\"{class}\">{mark} {}</span>", esc(label))
            })
            .collect();
        Html(boxes.join(""))
    }

    /// Small print under a value.
    pub(crate) fn with_note(mut self, note: &str) -> Html {
        self.0
            .push_str(&format!(" <span class=\"note\">{}</span>", esc(note)));
        self
    }
}

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A line of the ruled table: one field across the row, or two side by side.
pub(crate) enum Row {
    One(&'static str, Html),
    Two(&'static str, Html, &'static str, Html),
}

/// Rows under one heading of the grey left column ("청구인", "청구 내용").
pub(crate) struct Group {
    pub head: &'static str,
    pub rows: Vec<Row>,
}

/// The numbers strip above the table: pairs of label and value, two to a line.
pub(crate) fn strip(pairs: &[(&'static str, Html)]) -> Html {
    let mut out = String::from(
        "<table class=\"strip\"><colgroup><col class=\"k\"><col><col class=\"k\"><col></colgroup>\n",
    );
    for line in pairs.chunks(2) {
        out.push_str("<tr>");
        for (k, v) in line {
            out.push_str(&format!("<th>{}</th><td>{}</td>", esc(k), v.0));
        }
        if line.len() == 1 {
            out.push_str("<th></th><td></td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    Html(out)
}

/// The ruled table of the form's fields.
pub(crate) fn table(groups: &[Group]) -> Html {
    let mut out = String::from(
        "<table class=\"form\"><colgroup><col class=\"group\"><col class=\"k\"><col><col class=\"k2\"><col></colgroup>\n",
    );
    for g in groups {
        for (i, row) in g.rows.iter().enumerate() {
            out.push_str("<tr>");
            if i == 0 {
                out.push_str(&format!(
                    "<th class=\"group\" rowspan=\"{}\">{}</th>",
                    g.rows.len(),
                    esc(g.head)
                ));
            }
            match row {
                Row::One(k, v) => out.push_str(&format!(
                    "<th>{}</th><td colspan=\"3\">{}</td>",
                    esc(k),
                    v.0
                )),
                Row::Two(k1, v1, k2, v2) => out.push_str(&format!(
                    "<th>{}</th><td>{}</td><th>{}</th><td>{}</td>",
                    esc(k1),
                    v1.0,
                    esc(k2),
                    v2.0
                )),
            }
            out.push_str("</tr>\n");
        }
    }
    out.push_str("</table>\n");
    Html(out)
}

/// A block of markup; "closing" keeps the declaration, date and signature on one page.
pub(crate) fn block(class: &'static str, inner: Html) -> Html {
    Html(format!("<div class=\"{class}\">{}</div>\n", inner.0))
}

/// A paragraph of running text.
pub(crate) fn para(class: &'static str, text: Html) -> Html {
    Html(format!("<p class=\"{class}\">{}</p>\n", text.0))
}

const STYLE: &str = "@page { size: A4; margin: 15mm; }\n\
* { box-sizing: border-box; }\n\
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }\n\
body { font-family: 'NanumGothic', 'Noto Sans KR', 'Malgun Gothic', sans-serif; font-size: 10pt; line-height: 1.5; color: #000; margin: 0; }\n\
h1 { font-size: 18pt; text-align: center; letter-spacing: .04em; margin: 0 0 4mm; padding: 2.5mm 0; border: 1px solid #000; }\n\
table { width: 100%; border-collapse: collapse; }\n\
tr { break-inside: avoid; }\n\
th, td { border: 1px solid #666; padding: 1.6mm 2.5mm; vertical-align: middle; text-align: left; }\n\
th { background: #eee; font-weight: bold; text-align: center; word-break: keep-all; white-space: pre-line; }\n\
table.strip { font-size: 9pt; border-top: 2px solid #000; margin-bottom: 3mm; }\n\
table.strip th { background: #f6f6f6; font-weight: normal; }\n\
table.form { border-top: 2px solid #000; border-bottom: 2px solid #000; }\n\
col.group { width: 21mm; } col.k { width: 27mm; } col.k2 { width: 22mm; }\n\
th.group { background: #ddd; }\n\
.text { white-space: pre-wrap; min-height: 16mm; }\n\
.choice { margin-right: 6mm; white-space: nowrap; } .choice.chosen { font-weight: bold; }\n\
.note { font-size: 8.5pt; color: #333; }\n\
.mono { font-family: 'DejaVu Sans Mono', monospace; font-size: 7.5pt; word-break: break-all; }\n\
ul { margin: 0; padding-left: 4.5mm; } li { margin: .4mm 0; }\n\
.closing { break-inside: avoid; }\n\
.declare { margin: 6mm 0 3mm; text-align: center; }\n\
.date { text-align: center; font-size: 11pt; margin: 4mm 0; letter-spacing: .05em; }\n\
.sign { text-align: right; margin: 3mm 8mm 0 0; font-size: 11pt; }\n\
.sign .who { display: inline-block; min-width: 30mm; text-align: center; font-weight: bold; }\n\
.to { font-size: 13pt; font-weight: bold; margin: 6mm 0 4mm; }\n\
.issuer { text-align: center; font-size: 16pt; font-weight: bold; letter-spacing: .1em; margin: 6mm 0 1mm; }\n\
.contact { text-align: center; font-size: 9pt; margin: 0 0 5mm; }\n\
.notes { border: 1px solid #666; font-size: 8.5pt; padding: 2mm 3mm; margin-top: 6mm; break-inside: avoid; }\n\
.notes h2 { font-size: 9pt; margin: 0 0 1mm; }\n\
.notes ol { margin: 0; padding-left: 5mm; }\n\
@media screen { body { max-width: 190mm; margin: 1em auto; padding: 0 1em; } }\n";

/// A standalone page: the form's title and its body.
pub(crate) fn page(title: &str, body: &Html) -> String {
    format!(
        "<!doctype html>\n<html lang=\"ko\">\n<head>\n<meta charset=\"utf-8\">\n<title>{t}</title>\n\
         <style>\n{STYLE}</style>\n</head>\n<body>\n<h1>{t}</h1>\n{}</body>\n</html>\n",
        body.0,
        t = esc(title),
    )
}

/// The 유의사항 box at the foot of a form.
pub(crate) fn notes(items: &[String]) -> Html {
    let mut out = String::from("<div class=\"notes\"><h2>유의사항</h2><ol>");
    for it in items {
        out.push_str(&format!("<li>{}</li>", esc(it)));
    }
    out.push_str("</ol></div>\n");
    Html(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_literals_are_not() {
        assert_eq!(
            Html::text("<a & \"b\" 'c'>").as_str(),
            "&lt;a &amp; &quot;b&quot; &#39;c&#39;&gt;"
        );
        assert_eq!(Html::literal("<br>").as_str(), "<br>");
        assert_eq!(Html::text_or_dash("  ").as_str(), "-");
    }
}
