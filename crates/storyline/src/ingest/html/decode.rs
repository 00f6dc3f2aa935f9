//! Bytes of a saved page → text. Pages lie about their charset often enough (or say nothing)
//! that the declaration is only one witness: a byte order mark wins, then bytes that are
//! valid UTF-8 (legacy encodings almost never produce valid multi-byte UTF-8 by accident),
//! then the declared charset, then a statistical guess (chardetng, Firefox's detector).

use encoding_rs::{Encoding, UTF_8};

/// How much of the page start is searched for a `<meta charset>`. The HTML standard's
/// prescan looks at 1024 bytes; real pages put long comments and scripts first, so look
/// further (the declaration is a witness, not the last word).
const PRESCAN: usize = 8192;

/// Why some bytes are not a page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("binary data, not a web page")]
    Binary,
    #[error("empty page")]
    Empty,
}

/// The page as text and the encoding that was used to read it.
pub fn decode_page(bytes: &[u8]) -> Result<(String, &'static Encoding), DecodeError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(DecodeError::Empty);
    }
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return Ok((text.into_owned(), enc));
    }
    if looks_binary(bytes) {
        return Err(DecodeError::Binary);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((text.to_string(), UTF_8));
    }
    let declared = declared_charset(&bytes[..bytes.len().min(PRESCAN)])
        // A page that says UTF-8 but is not valid UTF-8 has lied: guess instead. UTF-16
        // declarations in an ASCII-compatible byte stream are wrong by construction.
        .filter(|e| *e != UTF_8 && e.is_ascii_compatible());
    let enc = declared.unwrap_or_else(|| {
        let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
        detector.feed(bytes, true);
        detector.guess(None, chardetng::Utf8Detection::Allow)
    });
    let (text, _, _) = enc.decode(bytes);
    Ok((text.into_owned(), enc))
}

/// NUL bytes and other control characters are rare in any text encoding that survives
/// without a BOM; more than a few per cent of them means a binary file.
fn looks_binary(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(1 << 16)];
    let controls = sample
        .iter()
        .filter(|&&b| b == 0 || (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)))
        .count();
    controls * 50 > sample.len()
}

/// The charset named by `<meta charset=…>` or `<meta http-equiv=Content-Type content="…;
/// charset=…">` near the start of the page.
fn declared_charset(head: &[u8]) -> Option<&'static Encoding> {
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut from = 0;
    while let Some(i) = find(&lower[from..], b"<meta") {
        let start = from + i;
        let end = lower[start..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(c) = find(tag, b"charset") {
            let rest = &tag[c + b"charset".len()..];
            let rest = trim_start(rest);
            if let Some(value) = rest.strip_prefix(b"=") {
                let value = trim_start(value);
                let value = value
                    .strip_prefix(b"\"")
                    .or_else(|| value.strip_prefix(b"'"))
                    .unwrap_or(value);
                let label_end = value
                    .iter()
                    .position(|&b| {
                        matches!(b, b'"' | b'\'' | b';' | b'/') || b.is_ascii_whitespace()
                    })
                    .unwrap_or(value.len());
                if let Some(enc) = Encoding::for_label(&value[..label_end]) {
                    return Some(enc);
                }
            }
        }
        from = end;
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &s[n..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1252_without_declaration_is_detected() {
        // "Café déjà vu – “quoted”" in windows-1252, no charset anywhere.
        let mut page = b"<html><body><p>".to_vec();
        for _ in 0..20 {
            page.extend_from_slice(
                b"Le caf\xe9 est d\xe9j\xe0 ferm\xe9 \x96 \x93ferm\xe9\x94, dit le g\xe9rant. ",
            );
        }
        page.extend_from_slice(b"</p></body></html>");
        let (text, enc) = decode_page(&page).unwrap();
        assert_eq!(enc, encoding_rs::WINDOWS_1252);
        assert!(text.contains("Le café est déjà fermé – “fermé”"), "{text}");
    }

    #[test]
    fn declared_legacy_charset_is_used_and_false_utf8_claim_is_overruled() {
        let page = b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\"></head><body>Gr\xfc\xdfe</body></html>";
        let (text, enc) = decode_page(page).unwrap();
        assert_eq!(enc, encoding_rs::WINDOWS_1252);
        assert!(text.contains("Grüße"));
        // Says UTF-8, is not: the bytes win.
        let page = b"<meta charset=utf-8><p>Gr\xfc\xdfe aus M\xfcnchen, sch\xf6ne Gr\xfc\xdfe</p>";
        let (text, _) = decode_page(page).unwrap();
        assert!(text.contains("Grüße aus München"), "{text}");
    }

    #[test]
    fn valid_utf8_wins_over_a_wrong_legacy_declaration() {
        let page = "<meta charset=\"windows-1252\"><p>Grüße — “quoted”</p>";
        let (text, enc) = decode_page(page.as_bytes()).unwrap();
        assert_eq!(enc, UTF_8);
        assert!(text.contains("Grüße — “quoted”"));
    }

    #[test]
    fn bom_and_binary_and_empty() {
        let mut utf16 = vec![0xff, 0xfe];
        for u in "<p>hi</p>".encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode_page(&utf16).unwrap().0, "<p>hi</p>");
        let junk: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        assert_eq!(decode_page(&junk), Err(DecodeError::Binary));
        assert_eq!(decode_page(b" \n "), Err(DecodeError::Empty));
    }
}
