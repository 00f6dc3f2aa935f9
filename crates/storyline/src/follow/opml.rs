//! OPML subscription lists, the format every feed reader imports and exports.

use super::FollowError;

/// A feed named in a subscription list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub url: String,
    pub title: Option<String>,
}

/// The feeds an OPML document lists, folders included, in document order. `what` names the
/// document in errors.
pub fn parse_opml(xml: &str, what: &str) -> Result<Vec<Subscription>, FollowError> {
    let doc = opml::OPML::from_str(xml).map_err(|e| FollowError::BadOpml {
        what: what.to_string(),
        reason: e.to_string(),
    })?;
    let mut out = Vec::new();
    let mut stack: Vec<&opml::Outline> = doc.body.outlines.iter().rev().collect();
    while let Some(o) = stack.pop() {
        if let Some(url) = o
            .xml_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            let title = o.title.clone().or_else(|| Some(o.text.clone()));
            out.push(Subscription {
                url: url.to_string(),
                title: title.filter(|t| !t.trim().is_empty()),
            });
        }
        stack.extend(o.outlines.iter().rev());
    }
    Ok(out)
}

/// An OPML 2.0 document listing `feeds`.
pub fn write_opml(title: &str, feeds: &[Subscription]) -> Result<String, FollowError> {
    let mut doc = opml::OPML {
        head: Some(opml::Head {
            title: Some(title.to_string()),
            ..opml::Head::default()
        }),
        ..opml::OPML::default()
    };
    for f in feeds {
        doc.body.outlines.push(opml::Outline {
            text: f.title.clone().unwrap_or_else(|| f.url.clone()),
            title: f.title.clone(),
            r#type: Some("rss".into()),
            xml_url: Some(f.url.clone()),
            ..opml::Outline::default()
        });
    }
    doc.to_string().map_err(|e| FollowError::BadOpml {
        what: "export".into(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_outlines_are_read_and_export_round_trips() {
        let xml = r#"<?xml version="1.0"?><opml version="2.0"><head><title>Mine</title></head><body>
          <outline text="News">
            <outline text="Wire" type="rss" xmlUrl="https://wire.example/feed"/>
            <outline text="Desk" title="The Desk" type="rss" xmlUrl=" https://desk.example/atom "/>
          </outline>
          <outline text="Not a feed" htmlUrl="https://x.example/"/>
        </body></opml>"#;
        let subs = parse_opml(xml, "mine.opml").unwrap();
        assert_eq!(
            subs.iter().map(|s| s.url.as_str()).collect::<Vec<_>>(),
            ["https://wire.example/feed", "https://desk.example/atom"]
        );
        assert_eq!(subs[1].title.as_deref(), Some("The Desk"));
        let out = write_opml("storyline feeds", &subs).unwrap();
        assert_eq!(parse_opml(&out, "export").unwrap(), subs);
    }

    #[test]
    fn broken_opml_is_named() {
        let e = parse_opml("<opml><body>", "subs.opml").unwrap_err();
        assert!(
            e.to_string().starts_with("subs.opml: not a valid OPML"),
            "{e}"
        );
    }
}
