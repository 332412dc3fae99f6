//! Writes a built notice as Markdown, or as print-ready (A4) and phone-readable HTML. Every piece of policy
//! text is escaped, so a location or name holding markup is shown, never run.

/// A paragraph, a list or a table of a notice section.
pub(crate) enum Block {
    Para(String),
    List(Vec<String>),
    Table(Vec<&'static str>, Vec<Vec<String>>),
}

pub(crate) struct Section {
    pub title: String,
    pub blocks: Vec<Block>,
}

pub(crate) struct Document {
    pub title: String,
    pub intro: Vec<String>,
    pub sections: Vec<Section>,
}

pub(crate) fn markdown(doc: &Document) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut out = format!("# {}\n\n", doc.title);
    for p in &doc.intro {
        out.push_str(&format!("{p}\n\n"));
    }
    for (i, s) in doc.sections.iter().enumerate() {
        out.push_str(&format!("## {}. {}\n\n", i + 1, s.title));
        for b in &s.blocks {
            match b {
                Block::Para(p) => out.push_str(&format!("{p}\n\n")),
                Block::List(items) => {
                    for it in items {
                        out.push_str(&format!("- {it}\n"));
                    }
                    out.push('\n');
                }
                Block::Table(head, rows) => {
                    out.push_str(&format!("| {} |\n", head.join(" | ")));
                    out.push_str(&format!("|{}\n", "---|".repeat(head.len())));
                    for r in rows {
                        let cells: Vec<String> = r.iter().map(|c| cell(c)).collect();
                        out.push_str(&format!("| {} |\n", cells.join(" | ")));
                    }
                    out.push('\n');
                }
            }
        }
    }
    out
}

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

const STYLE: &str = "@page { size: A4; margin: 18mm 16mm; }\n\
body { font-family: 'Noto Sans KR', 'NanumGothic', 'Malgun Gothic', sans-serif; line-height: 1.6; max-width: 46em; margin: 0 auto; padding: 1em; color: #111; }\n\
h1 { font-size: 1.4em; text-align: center; border-bottom: 2px solid #111; padding-bottom: .4em; }\n\
h2 { font-size: 1.1em; margin-top: 1.4em; break-after: avoid; }\n\
table { border-collapse: collapse; width: 100%; margin: .5em 0; }\n\
tr { break-inside: avoid; }\n\
th, td { border: 1px solid #555; padding: .3em .5em; text-align: left; vertical-align: top; }\n\
th { background: #eee; }\n\
.scroll { overflow-x: auto; }\n\
@media print { body { padding: 0; font-size: 10.5pt; } }\n";

pub(crate) fn html(doc: &Document) -> String {
    let mut out = format!(
        "<!doctype html>\n<html lang=\"ko\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n\
         <style>\n{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        esc(&doc.title),
        esc(&doc.title),
    );
    for p in &doc.intro {
        out.push_str(&format!("<p>{}</p>\n", esc(p)));
    }
    for (i, s) in doc.sections.iter().enumerate() {
        out.push_str(&format!("<h2>{}. {}</h2>\n", i + 1, esc(&s.title)));
        for b in &s.blocks {
            match b {
                Block::Para(p) => out.push_str(&format!("<p>{}</p>\n", esc(p))),
                Block::List(items) => {
                    out.push_str("<ul>\n");
                    for it in items {
                        out.push_str(&format!("<li>{}</li>\n", esc(it)));
                    }
                    out.push_str("</ul>\n");
                }
                Block::Table(head, rows) => {
                    out.push_str("<div class=\"scroll\"><table>\n<tr>");
                    for h in head {
                        out.push_str(&format!("<th>{}</th>", esc(h)));
                    }
                    out.push_str("</tr>\n");
                    for r in rows {
                        out.push_str("<tr>");
                        for c in r {
                            out.push_str(&format!("<td>{}</td>", esc(c)));
                        }
                        out.push_str("</tr>\n");
                    }
                    out.push_str("</table></div>\n");
                }
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_text() {
        assert_eq!(
            esc("<a & \"b\" 'c'>"),
            "&lt;a &amp; &quot;b&quot; &#39;c&#39;&gt;"
        );
    }
}
