//! A guard against pathologically deep pages, applied before any DOM is built.

/// Flattens nesting deeper than `max` open elements: start and end tags past that depth are
/// dropped, their text kept. Real pages never get near the limit, and the DOM crates recurse
/// per level, so without this a hostile page would overflow the stack. Elements that close
/// themselves implicitly (`<p>`, `<li>`, table parts, void elements) are not counted, and
/// the insides of `<script>`, `<style>`, comments and the like are skipped.
pub fn limit_nesting(html: &str, max: usize) -> std::borrow::Cow<'_, str> {
    const NOT_COUNTED: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "param", "keygen", "p", "li", "dt", "dd", "tr", "td", "th", "thead",
        "tbody", "tfoot", "option", "optgroup", "rb", "rt", "rp", "colgroup", "caption", "html",
        "head", "body",
    ];
    const RAW: &[&str] = &["script", "style", "textarea", "title", "xmp", "noscript"];
    let bytes = html.as_bytes();
    let mut depth = 0usize;
    let mut dropped = 0usize; // end tags still owed to dropped start tags
    let mut out: Option<String> = None;
    let mut copied = 0; // bytes of `html` already copied to `out`
    let mut i = 0;
    while let Some(off) = bytes[i..].iter().position(|&b| b == b'<') {
        let start = i + off;
        let rest = &html[start..];
        if rest.starts_with("<!--") {
            i = rest.find("-->").map_or(bytes.len(), |e| start + e + 3);
            continue;
        }
        let closing = rest.starts_with("</");
        let name_start = start + if closing { 2 } else { 1 };
        let name_len = bytes[name_start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if name_len == 0 {
            i = start + 1;
            continue;
        }
        let name = html[name_start..name_start + name_len].to_ascii_lowercase();
        let Some(gt) = bytes[name_start..].iter().position(|&b| b == b'>') else {
            break;
        };
        let end = name_start + gt + 1;
        let self_closing = bytes[..end].ends_with(b"/>");
        let mut drop_tag = false;
        if !closing && RAW.contains(&name.as_str()) {
            let close = format!("</{name}");
            let lower_rest = html[end..].to_ascii_lowercase();
            i = lower_rest.find(&close).map_or(bytes.len(), |e| end + e);
            continue;
        }
        if !NOT_COUNTED.contains(&name.as_str()) && !self_closing {
            if closing {
                if dropped > 0 {
                    dropped -= 1;
                    drop_tag = true;
                } else {
                    depth = depth.saturating_sub(1);
                }
            } else if depth >= max {
                dropped += 1;
                drop_tag = true;
            } else {
                depth += 1;
            }
        }
        if drop_tag {
            let o = out.get_or_insert_with(|| String::with_capacity(html.len()));
            o.push_str(&html[copied..start]);
            copied = end;
        }
        i = end;
    }
    match out {
        None => std::borrow::Cow::Borrowed(html),
        Some(mut o) => {
            o.push_str(&html[copied..]);
            std::borrow::Cow::Owned(o)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_capped_and_text_kept() {
        let deep = format!("{}hello{}", "<div>".repeat(1000), "</div>".repeat(1000));
        let flat = limit_nesting(&deep, 10);
        assert_eq!(flat.matches("<div>").count(), 10);
        assert_eq!(flat.matches("</div>").count(), 10);
        assert!(flat.contains("hello"));
        let normal = "<div><p>a<p>b<script>if (a<b) { x = '<div>'; }</script></div>";
        assert!(matches!(
            limit_nesting(normal, 1),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
