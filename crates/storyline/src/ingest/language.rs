//! An article's language: what its input said (a feed's or page's `lang`, a JSONL field),
//! else what the text itself shows (`whatlang`, only when it is sure). The engine compares
//! English texts only (its stemmer, stop words and gazetteer are English), so an article
//! known to be in another language is kept apart from English events (see
//! `pipeline::analysis`).

/// Characters of the text looked at: enough for a sure answer, and no more work for a long
/// article than for a short one.
const DETECT_CHARS: usize = 2000;

/// Shorter texts are not judged: a few words (a list of names, a headline) are too easily
/// taken for another language.
const DETECT_MIN_CHARS: usize = 200;

/// The primary subtag of a language tag, lower case: "en-US", "EN_gb" and "en" are all
/// "en". `None` for an empty or malformed tag.
pub fn primary_tag(lang: &str) -> Option<String> {
    let primary = lang.trim().split(['-', '_']).next()?;
    let ok = (2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_alphabetic());
    ok.then(|| primary.to_ascii_lowercase())
}

/// English, as a tag names it ("en", "eng").
pub fn is_english(tag: &str) -> bool {
    matches!(primary_tag(tag).as_deref(), Some("en" | "eng"))
}

/// The language of `text` as an ISO 639-1 tag where there is one (else ISO 639-3), when the
/// detector is sure; `None` for a short or mixed text.
pub fn detect(text: &str) -> Option<String> {
    let end = text
        .char_indices()
        .nth(DETECT_CHARS)
        .map_or(text.len(), |(i, _)| i);
    let sample = &text[..end];
    if sample.chars().count() < DETECT_MIN_CHARS {
        return None;
    }
    let info = whatlang::detect(sample).filter(whatlang::Info::is_reliable)?;
    let code = info.lang().code();
    Some(iso_639_1(code).unwrap_or(code).to_string())
}

/// The two-letter tag of the languages news comes in most, as feeds and pages write them.
fn iso_639_1(code: &str) -> Option<&'static str> {
    Some(match code {
        "eng" => "en",
        "deu" => "de",
        "fra" => "fr",
        "spa" => "es",
        "ita" => "it",
        "por" => "pt",
        "nld" => "nl",
        "rus" => "ru",
        "ukr" => "uk",
        "pol" => "pl",
        "ces" => "cs",
        "swe" => "sv",
        "dan" => "da",
        "nob" => "nb",
        "fin" => "fi",
        "tur" => "tr",
        "ell" => "el",
        "ara" => "ar",
        "heb" => "he",
        "pes" => "fa",
        "hin" => "hi",
        "cmn" => "zh",
        "jpn" => "ja",
        "kor" => "ko",
        "ind" => "id",
        "vie" => "vi",
        "ron" => "ro",
        "hun" => "hu",
        "bul" => "bg",
        "hrv" => "hr",
        "srp" => "sr",
        "cat" => "ca",
        _ => return None,
    })
}

/// The tag an article's terms and names are kept apart under: `None` for English, or when
/// the language is not known (such text is compared as English, as before languages were
/// told apart).
pub fn apart_tag(lang: Option<&str>) -> Option<String> {
    let tag = primary_tag(lang?)?;
    // A detected 639-3 tag and a feed's 639-1 tag of the same language keep together.
    let tag = iso_639_1(&tag).map_or(tag, str::to_string);
    (!is_english(&tag)).then_some(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        for (given, want) in [
            ("en-US", Some("en")),
            ("EN_gb", Some("en")),
            (" de ", Some("de")),
            ("", None),
            ("x", None),
            ("12", None),
        ] {
            assert_eq!(primary_tag(given).as_deref(), want, "{given:?}");
        }
        assert_eq!(apart_tag(Some("en-GB")), None);
        assert_eq!(apart_tag(Some("eng")), None);
        assert_eq!(apart_tag(None), None);
        assert_eq!(apart_tag(Some("de-AT")).as_deref(), Some("de"));
        assert_eq!(apart_tag(Some("deu")).as_deref(), Some("de"));
    }

    #[test]
    fn detects_only_when_sure() {
        let de = "Die Bundesregierung hat am Mittwoch in Berlin ein neues Gesetz zur \
                  Förderung erneuerbarer Energien beschlossen. Nach Angaben des \
                  Wirtschaftsministeriums sollen damit bis zum Jahr 2030 mehr als die Hälfte \
                  des Stroms aus Wind und Sonne kommen. Kritiker bemängeln, dass die Pläne \
                  nicht weit genug gingen.";
        assert_eq!(detect(de).as_deref(), Some("de"));
        let en = "The government approved a new law on Wednesday in Berlin to promote \
                  renewable energy. According to the economy ministry, more than half of the \
                  country's electricity should come from wind and sun by 2030. Critics say \
                  the plans do not go far enough and came too late.";
        assert_eq!(detect(en).as_deref(), Some("en"));
        assert_eq!(detect("Angela Merkel, Berlin"), None, "too short to judge");
    }
}
