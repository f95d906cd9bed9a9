//! The admin panel's files go out compressed to a browser that asks (Brotli or gzip,
//! prepared when the UI is built), the same files once decompressed, and as they are to
//! one that does not ask.

use std::io::Read;

use switchboard_e2e::*;

/// The script the panel's page loads first.
fn entry_script(server: &Server) -> String {
    let (status, _, page) = server.request_with_head("GET", "/", "", b"");
    assert_eq!(status, 200);
    let page = String::from_utf8(page).expect("utf-8 page");
    let src = page
        .split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no script in {page}"));
    src.to_string()
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then_some(value.trim())
    })
}

#[test]
fn the_panels_script_goes_out_compressed_only_to_a_browser_that_asks() {
    let server = Server::start(&config("", FAST_REGISTRAR));
    let script = entry_script(&server);
    let (status, head, plain) = server.request_with_head("GET", &script, "", b"");
    assert_eq!(status, 200);
    assert_eq!(header(&head, "content-encoding"), None, "{head}");

    let (_, head, gzipped) =
        server.request_with_head("GET", &script, "Accept-Encoding: gzip, deflate\r\n", b"");
    assert_eq!(header(&head, "content-encoding"), Some("gzip"), "{head}");
    assert_eq!(header(&head, "vary"), Some("Accept-Encoding"), "{head}");
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gzipped[..])
        .read_to_end(&mut unzipped)
        .expect("gzip");
    assert!(unzipped == plain, "the gzip copy is the script");

    let (_, head, brotli) = server.request_with_head(
        "GET",
        &script,
        "Accept-Encoding: gzip, deflate, br\r\n",
        b"",
    );
    assert_eq!(header(&head, "content-encoding"), Some("br"), "{head}");
    assert!(
        brotli.len() < gzipped.len() && gzipped.len() < plain.len() / 2,
        "Brotli {} < gzip {} < half of {}",
        brotli.len(),
        gzipped.len(),
        plain.len()
    );
    let (_, head, _) =
        server.request_with_head("GET", &script, "Accept-Encoding: br;q=0, gzip\r\n", b"");
    assert_eq!(header(&head, "content-encoding"), Some("gzip"), "{head}");
}
