//! Tables for a spreadsheet, as a CSV file or an Excel workbook (XLSX).
//!
//! CSV files open in Excel as a table in the reader's language: UTF-8 with a byte order
//! mark (without it Excel reads the bytes as the PC's code page and Polish or Russian
//! letters come out garbled), `;` between cells and a decimal comma where the locale's
//! list separator is the comma's (Polish, Russian), `,` and a decimal point in English.
//! Cells a spreadsheet would run as formulas are made inert. A workbook needs none of
//! this: its numbers are numbers and its text is never a formula, in any locale.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{Format, Workbook};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::sounds::Language;

/// What Excel reads first to know the file is UTF-8.
const BOM: &[u8] = "\u{feff}".as_bytes();

/// What an export is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    #[default]
    Csv,
    /// An Excel workbook.
    Xlsx,
}

/// One cell: text, a count, or a figure shown to `decimals` places.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Count(u64),
    Figure { value: f64, decimals: usize },
    Empty,
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::Text(text)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::Text(text.to_string())
    }
}

impl From<u64> for Cell {
    fn from(count: u64) -> Cell {
        Cell::Count(count)
    }
}

/// A figure to a tenth, or an empty cell when there is none.
pub fn tenths(value: Option<f64>) -> Cell {
    value.map_or(Cell::Empty, |value| Cell::Figure { value, decimals: 1 })
}

/// Why a table could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("XLSX: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

enum Out {
    Csv {
        out: Box<csv::Writer<Vec<u8>>>,
        decimal_comma: bool,
    },
    Xlsx {
        book: Box<Workbook>,
        rows: u32,
    },
}

pub struct Sheet {
    out: Out,
}

impl std::fmt::Debug for Sheet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sheet").finish()
    }
}

impl Sheet {
    /// A CSV file for a spreadsheet in `locale`'s language.
    pub fn new(locale: Language) -> Sheet {
        Sheet::of(FileFormat::Csv, locale)
    }

    pub fn of(format: FileFormat, locale: Language) -> Sheet {
        let out = match format {
            FileFormat::Csv => {
                let comma_locale = matches!(locale, Language::Pl | Language::Ru);
                let out = csv::WriterBuilder::new()
                    .delimiter(if comma_locale { b';' } else { b',' })
                    .from_writer(BOM.to_vec());
                Out::Csv {
                    out: Box::new(out),
                    decimal_comma: comma_locale,
                }
            }
            FileFormat::Xlsx => {
                let mut book = Workbook::new();
                book.add_worksheet();
                Out::Xlsx {
                    book: Box::new(book),
                    rows: 0,
                }
            }
        };
        Sheet { out }
    }

    /// The next row; in a workbook the first (the header) is bold.
    pub fn row<I: IntoIterator<Item = Cell>>(&mut self, cells: I) -> Result<(), SheetError> {
        match &mut self.out {
            Out::Csv { out, decimal_comma } => {
                let text = cells.into_iter().map(|c| match c {
                    Cell::Text(t) => inert_cell(t),
                    Cell::Count(n) => n.to_string(),
                    Cell::Figure { value, decimals } => {
                        let text = format!("{value:.decimals$}");
                        if *decimal_comma {
                            text.replace('.', ",")
                        } else {
                            text
                        }
                    }
                    Cell::Empty => String::new(),
                });
                out.write_record(text)?;
            }
            Out::Xlsx { book, rows } => {
                let sheet = book.worksheet_from_index(0)?;
                let bold = Format::new().set_bold();
                for (column, cell) in cells.into_iter().enumerate() {
                    let column = u16::try_from(column).unwrap_or(u16::MAX);
                    match cell {
                        Cell::Text(t) if *rows == 0 => {
                            sheet.write_string_with_format(*rows, column, t, &bold)?;
                        }
                        Cell::Text(t) => {
                            sheet.write_string(*rows, column, t)?;
                        }
                        Cell::Count(n) => {
                            sheet.write_number(*rows, column, n as f64)?;
                        }
                        Cell::Figure { value, decimals } => {
                            let places = format!("0.{}", "0".repeat(decimals));
                            let shown = Format::new().set_num_format(places);
                            sheet.write_number_with_format(*rows, column, value, &shown)?;
                        }
                        Cell::Empty => {}
                    }
                }
                *rows += 1;
            }
        }
        Ok(())
    }

    /// The file's bytes (a CSV file's byte order mark first).
    pub fn into_bytes(self) -> Result<Vec<u8>, SheetError> {
        match self.out {
            Out::Csv { out, .. } => Ok(out
                .into_inner()
                .map_err(|e| csv::Error::from(e.into_error()))?),
            Out::Xlsx { mut book, .. } => {
                book.worksheet_from_index(0)?.autofit();
                Ok(book.save_to_buffer()?)
            }
        }
    }

    /// The file, served as a download named `stem` and the format's extension.
    pub fn download(self, stem: &str) -> Result<Response, SheetError> {
        let (kind, extension) = match self.out {
            Out::Csv { .. } => ("text/csv; charset=utf-8", "csv"),
            Out::Xlsx { .. } => (
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "xlsx",
            ),
        };
        let bytes = self.into_bytes()?;
        let disposition = format!("attachment; filename=\"{stem}.{extension}\"");
        Ok((
            [
                (header::CONTENT_TYPE, kind.to_string()),
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

    fn written(locale: Language, rows: &[[Cell; 2]]) -> String {
        let mut sheet = Sheet::new(locale);
        for r in rows {
            sheet.row(r.clone()).unwrap();
        }
        let bytes = sheet.into_bytes().unwrap();
        assert!(bytes.starts_with(BOM), "UTF-8 with its byte order mark");
        String::from_utf8(bytes[BOM.len()..].to_vec()).unwrap()
    }

    #[test]
    fn polish_and_russian_sheets_use_semicolons_and_decimal_commas() {
        let figure = || tenths(Some(12.345));
        assert_eq!(
            written(
                Language::Ru,
                &[["Очередь".into(), figure()], ["Kraków".into(), 1.into()]]
            ),
            "Очередь;12,3\nKraków;1\n"
        );
        assert_eq!(
            written(
                Language::En,
                &[["a".into(), figure()], ["b".into(), tenths(None)]]
            ),
            "a,12.3\nb,\n"
        );
    }

    #[test]
    fn a_workbook_is_a_zip_of_excel_parts() {
        let mut sheet = Sheet::of(FileFormat::Xlsx, Language::Pl);
        sheet.row(["queue".into(), "ASR (%)".into()]).unwrap();
        sheet
            .row(["=cmd|'/C calc'!A0".into(), tenths(Some(67.8))])
            .unwrap();
        let bytes = sheet.into_bytes().unwrap();
        assert!(bytes.starts_with(b"PK"), "a ZIP file");
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains("xl/worksheets/sheet1.xml"),
            "an Excel worksheet"
        );
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
