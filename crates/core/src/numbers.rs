//! Phone numbers as an office types and pastes them ("+48 22 555-01-02", "0048…",
//! "022 555 01 02"), made comparable, and the named lists they are kept in: a VIP list
//! raises callers' priority in queues, a block list turns callers away. Callers who
//! withhold their number are all "anonymous", which a list can hold too.

use std::collections::BTreeSet;
use switchboard_queue::Priority;

/// What the calling number is when the caller withheld it; a list may name it.
pub const ANONYMOUS: &str = "anonymous";

/// The longest number E.164 allows.
const MAX_DIGITS: usize = 15;

/// Numbers this long or longer, without an international prefix, are national numbers
/// of the office's country; shorter ones are extensions and stay as they are.
const NATIONAL_FROM: usize = 7;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("no digits")]
    Empty,
    #[error("{0:?} is not a digit")]
    NotADigit(char),
    #[error("longer than {MAX_DIGITS} digits")]
    TooLong,
}

/// The comparable form of a number: separators (spaces, dashes, dots, brackets)
/// dropped; "00" and "+" both as "+"; with the office's country code, a national number
/// (a trunk "0" dropped) as "+<code>…". Extensions stay digits.
pub fn normalise(raw: &str, country_code: Option<&str>) -> Result<String, NumberError> {
    if raw.trim().eq_ignore_ascii_case(ANONYMOUS) {
        return Ok(ANONYMOUS.to_string());
    }
    let mut digits = String::new();
    let mut international = false;
    for (i, c) in raw.trim().chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => international = true,
            ' ' | '\t' | '-' | '.' | '(' | ')' | '/' => {}
            other => return Err(NumberError::NotADigit(other)),
        }
    }
    if digits.is_empty() {
        return Err(NumberError::Empty);
    }
    if !international && let Some(rest) = digits.strip_prefix("00") {
        digits = rest.to_string();
        international = true;
    }
    if !international
        && let Some(code) = country_code
        && digits.len() >= NATIONAL_FROM
    {
        let national = digits.strip_prefix('0').unwrap_or(&digits);
        digits = format!("{code}{national}");
        international = true;
    }
    if digits.len() > MAX_DIGITS {
        return Err(NumberError::TooLong);
    }
    Ok(if international {
        format!("+{digits}")
    } else {
        digits
    })
}

/// The phone number written in `text`, such as one line of a pasted list ("tel. 22 555
/// 01 04", "601 234 570 (mobile)", "Anna Kowalska, +48 601 234 571"): the first run of
/// digits and the signs numbers are written with that holds three digits or more.
pub fn number_in(text: &str) -> Option<&str> {
    let is_part = |c: char| c.is_ascii_digit() || " \t-.()/".contains(c);
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit() || c == '+' || c == '(') {
        let tail = &rest[start..];
        let sign = usize::from(tail.starts_with('+'));
        let len = tail[sign..]
            .find(|c: char| !is_part(c))
            .unwrap_or(tail.len() - sign)
            + sign;
        let run = tail[..len].trim_end_matches(|c: char| !c.is_ascii_digit());
        if run.chars().filter(char::is_ascii_digit).count() >= 3 {
            return Some(run);
        }
        rest = &tail[len.max(1)..];
    }
    None
}

/// What a list is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// Callers on it wait in queues with this priority (higher is served first).
    Vip { priority: Priority },
    /// Callers on it are declined (603), after a message saying so when `tell`.
    Block { tell: bool },
    /// Kept for call scenarios to check.
    Plain,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberList {
    pub name: String,
    pub kind: ListKind,
    /// Normalised numbers.
    pub numbers: BTreeSet<String>,
}

/// A line of imported text that is not a number, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct LineError {
    pub line: usize,
    pub problem: String,
}

/// Numbers pasted from a spreadsheet column: one a line, blank lines skipped, a first
/// line without digits taken for a header. A row copied with several cells (tab
/// separated) gives its first cell.
pub fn parse_pasted(text: &str, country_code: Option<&str>) -> Result<Vec<String>, Vec<LineError>> {
    let cells = text
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.split('\t').next().unwrap_or("").to_string()));
    collect(cells, country_code)
}

/// Numbers from a CSV file with a header row, from the column named `column` (or the
/// first column whose header mentions "phone", "number" or "tel").
pub fn parse_csv(
    text: &str,
    column: Option<&str>,
    country_code: Option<&str>,
) -> Result<Vec<String>, Vec<LineError>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header_error = |problem: String| vec![LineError { line: 1, problem }];
    let headers = reader
        .headers()
        .map_err(|e| header_error(e.to_string()))?
        .clone();
    let wanted = |h: &str| match column {
        Some(name) => h.eq_ignore_ascii_case(name),
        None => {
            let h = h.to_ascii_lowercase();
            ["phone", "number", "tel"].iter().any(|w| h.contains(w))
        }
    };
    let index = headers.iter().position(wanted).ok_or_else(|| {
        header_error(match column {
            Some(name) => format!("no column named {name:?}"),
            None => "no column whose header says phone, number or tel".into(),
        })
    })?;
    let mut cells = Vec::new();
    let mut errors = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        match record {
            Ok(r) => cells.push((line, r.get(index).unwrap_or("").to_string())),
            Err(e) => errors.push(LineError {
                line,
                problem: e.to_string(),
            }),
        }
    }
    let numbers = collect(cells.into_iter(), country_code);
    match (numbers, errors.is_empty()) {
        (Ok(n), true) => Ok(n),
        (Ok(_), false) => Err(errors),
        (Err(mut e), _) => {
            e.extend(errors);
            e.sort_by_key(|e| e.line);
            Err(e)
        }
    }
}

/// Normalises every non-blank cell; a first cell without digits is a header.
fn collect(
    cells: impl Iterator<Item = (usize, String)>,
    country_code: Option<&str>,
) -> Result<Vec<String>, Vec<LineError>> {
    let mut numbers = Vec::new();
    let mut errors = Vec::new();
    for (line, cell) in cells {
        let cell = cell.trim();
        if cell.is_empty() || (line == 1 && !cell.chars().any(|c| c.is_ascii_digit())) {
            continue;
        }
        match normalise(cell, country_code) {
            Ok(n) => numbers.push(n),
            Err(e) => errors.push(LineError {
                line,
                problem: format!("{cell:?}: {e}"),
            }),
        }
    }
    if errors.is_empty() {
        Ok(numbers)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_number_in_a_pasted_line_is_found_and_its_words_left_out() {
        for (line, number) in [
            ("tel. 22 555 01 04", Some("22 555 01 04")),
            ("601234570 (mobile)", Some("601234570")),
            ("Anna Kowalska, +48 601 234 571", Some("+48 601 234 571")),
            ("(22) 555-01-05 ext", Some("(22) 555-01-05")),
            ("room 12, 0048 22 555 01 06", Some("0048 22 555 01 06")),
            ("n/a", None),
            ("", None),
        ] {
            assert_eq!(number_in(line), number, "{line:?}");
        }
    }

    #[test]
    fn the_ways_offices_write_a_number_compare_equal() {
        let pl = Some("48");
        for raw in [
            "+48 22 555 01 02",
            "0048225550102",
            "+48 (22) 555-01-02",
            "22 555 01 02",
        ] {
            assert_eq!(normalise(raw, pl).unwrap(), "+48225550102", "{raw}");
        }
        // A trunk zero is dropped (UK style), extensions stay as they are.
        assert_eq!(
            normalise("020 7946 0018", Some("44")).unwrap(),
            "+442079460018"
        );
        assert_eq!(normalise("101", pl).unwrap(), "101");
        assert_eq!(normalise(" Anonymous ", pl).unwrap(), ANONYMOUS);
        assert_eq!(normalise("225550102", None).unwrap(), "225550102");
    }

    #[test]
    fn what_is_not_a_number_says_why() {
        assert_eq!(normalise(" - ", None), Err(NumberError::Empty));
        assert_eq!(
            normalise("22 555 O1", None),
            Err(NumberError::NotADigit('O'))
        );
        assert_eq!(normalise("1+2", None), Err(NumberError::NotADigit('+')));
        assert_eq!(
            normalise("+1234567890123456", None),
            Err(NumberError::TooLong)
        );
    }

    #[test]
    fn a_pasted_column_with_a_header_and_gaps() {
        let pasted = "Phone\n+48 22 555 01 02\n\n0048 22 555 01 03\t Anna Nowak\n";
        assert_eq!(
            parse_pasted(pasted, None).unwrap(),
            ["+48225550102", "+48225550103"]
        );
        let bad = "22 555 01 02\ncall me\n";
        assert_eq!(
            parse_pasted(bad, Some("48")).unwrap_err(),
            [LineError {
                line: 2,
                problem: "\"call me\": 'c' is not a digit".into()
            }]
        );
    }

    #[test]
    fn a_csv_file_by_column_name_or_by_its_header() {
        let csv = "Name,Mobile phone,City\n\"Nowak, Anna\",+48 600 100 200,Warsaw\nJan,601-100-200,Kraków\n";
        assert_eq!(
            parse_csv(csv, None, Some("48")).unwrap(),
            ["+48600100200", "+48601100200"]
        );
        assert_eq!(
            parse_csv(csv, Some("city"), None).unwrap_err()[0].line,
            2,
            "a city is not a number"
        );
        assert!(
            parse_csv("Name,City\nA,B\n", None, None).unwrap_err()[0]
                .problem
                .contains("phone")
        );
    }
}
