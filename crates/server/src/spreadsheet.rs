//! CSV files that Excel opens as a table in the reader's language: UTF-8 with a byte
//! order mark (without it Excel reads the bytes as the PC's code page and Polish or
//! Russian letters come out garbled), `;` between cells and a decimal comma where the
//! locale's list separator is the comma's (Polish, Russian), `,` and a decimal point in
//! English. Cells a spreadsheet would run as formulas are made inert.

use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::sounds::Language;

/// What Excel reads first to know the file is UTF-8.
const BOM: &[u8] = "\u{feff}".as_bytes();

pub struct Sheet {
    out: csv::Writer<Vec<u8>>,
    decimal_comma: bool,
}

impl std::fmt::Debug for Sheet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sheet").finish()
    }
}

impl Sheet {
    pub fn new(locale: Language) -> Sheet {
        let comma_locale = matches!(locale, Language::Pl | Language::Ru);
        let out = csv::WriterBuilder::new()
            .delimiter(if comma_locale { b';' } else { b',' })
            .from_writer(BOM.to_vec());
        Sheet {
            out,
            decimal_comma: comma_locale,
        }
    }

    pub fn row<I: IntoIterator<Item = String>>(&mut self, cells: I) -> csv::Result<()> {
        self.out.write_record(cells.into_iter().map(inert_cell))
    }

    /// A number with `decimals` places, its decimal mark the locale's.
    pub fn number(&self, value: f64, decimals: usize) -> String {
        let text = format!("{value:.decimals$}");
        if self.decimal_comma {
            text.replace('.', ",")
        } else {
            text
        }
    }

    /// The file's bytes, its byte order mark first.
    pub fn into_bytes(self) -> Result<Vec<u8>, csv::Error> {
        self.out.into_inner().map_err(|e| e.into_error().into())
    }

    /// The file, served as a download named `name`.
    pub fn download(self, name: &str) -> Result<Response, csv::Error> {
        let bytes = self.into_bytes()?;
        let disposition = format!("attachment; filename=\"{name}\"");
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            bytes,
        )
            .into_response())
    }
}

/// A cell a spreadsheet will not run: text that a spreadsheet would read as a formula
/// (it starts with `=`, `+`, `-`, `@`, a tab or a carriage return, and callers choose
/// what they dial and send as their name) gets a leading apostrophe. A plain number
/// such as `+48 22 123 45 67` or `-3,5` stays as it is.
fn inert_cell(cell: String) -> String {
    let plain_number = |s: &str| {
        let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
        !digits.is_empty()
            && digits
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b' ' || b == b'.' || b == b',')
    };
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') if !plain_number(&cell) => format!("'{cell}"),
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(locale: Language, rows: &[[&str; 2]]) -> String {
        let mut sheet = Sheet::new(locale);
        for r in rows {
            sheet.row(r.map(String::from)).unwrap();
        }
        let bytes = sheet.into_bytes().unwrap();
        assert!(bytes.starts_with(BOM), "UTF-8 with its byte order mark");
        String::from_utf8(bytes[BOM.len()..].to_vec()).unwrap()
    }

    #[test]
    fn polish_and_russian_sheets_use_semicolons_and_decimal_commas() {
        let sheet = Sheet::new(Language::Pl);
        let cell = sheet.number(12.345, 1);
        assert_eq!(cell, "12,3");
        assert_eq!(
            written(Language::Ru, &[["Очередь", &cell], ["Kraków", "1"]]),
            "Очередь;12,3\nKraków;1\n"
        );
        let english = Sheet::new(Language::En);
        assert_eq!(english.number(12.345, 1), "12.3");
        assert_eq!(written(Language::En, &[["a", "12.3"]]), "a,12.3\n");
    }

    #[test]
    fn formulas_are_made_inert_and_numbers_are_not() {
        for (given, exported) in [
            ("sip:=cmd|'/Ccalc'!A0@pbx", "sip:=cmd|'/Ccalc'!A0@pbx"),
            ("=cmd|'/Ccalc'!A0", "'=cmd|'/Ccalc'!A0"),
            ("+SUM(A1)", "'+SUM(A1)"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("+48 22 123 45 67", "+48 22 123 45 67"),
            ("-5", "-5"),
            ("-3,5", "-3,5"),
            ("Anna", "Anna"),
            ("", ""),
        ] {
            assert_eq!(inert_cell(given.to_string()), exported, "{given:?}");
        }
    }
}
