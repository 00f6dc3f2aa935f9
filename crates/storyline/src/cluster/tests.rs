//! The clusterer's tests: placement, merges, retirement and restore, on small made-up texts.

use super::merge::merge_check_due;
use super::state::MAX_EVENT_ENTITIES;
use super::*;
use crate::core::{EventId, StoryId};
use chrono::TimeZone;

fn features(text: &str, ents: &[&str], day: Option<u32>) -> ArticleFeatures {
    ArticleFeatures {
        terms: TermBag::new(text.split_whitespace()),
        entities: ents.iter().map(|s| s.to_string()).collect(),
        time: day.map(|d| Utc.with_ymd_and_hms(2024, 3, d, 12, 0, 0).unwrap()),
        ..ArticleFeatures::default()
    }
}

/// The default settings with full reports kept to the headline pace, so that the
/// retirement tests' short texts retire within their days of March.
fn headline_pace() -> ClusterConfig {
    ClusterConfig {
        report_window_days: 2.0,
        report_half_life_days: 0.15,
        ..ClusterConfig::default()
    }
}

/// Features of a text naming `names` (terms of names, as the pipeline finds them) but
/// no entities, so that no entity bonus moves the scores.
fn named(text: &str, names: &[&str]) -> ArticleFeatures {
    ArticleFeatures {
        name_keys: names.iter().map(|s| vector::term_key(s)).collect(),
        ..features(text, &[], None)
    }
}

#[test]
fn similar_articles_share_an_event_and_others_do_not() {
    let mut c = Clusterer::new(ClusterConfig::default());
    let a = c.assign(&features(
        "quake strike coast tsunami warn",
        &["chile"],
        Some(1),
    ));
    let b = c.assign(&features("quake coast tsunami damag", &["chile"], Some(1)));
    let x = c.assign(&features(
        "parliament vote budget approv",
        &["germany"],
        Some(2),
    ));
    assert!(a.new_event && a.new_story);
    assert_eq!((b.event, b.new_event), (a.event, false));
    assert_ne!(x.event, a.event);
    assert_ne!(x.story, a.story);
}

/// Assigns unrelated news, then three "black friday" reports, then a "black nativity"
/// review sharing only "black" with them; returns whether the review joined them.
fn one_shared_word_joins(config: ClusterConfig, day: Option<u32>) -> bool {
    let mut c = Clusterer::new(config);
    for text in [
        "parliament vote budget approv",
        "quake strike coast tsunami",
        "court rule appeal judg",
        "storm flood river evacu",
    ] {
        c.assign(&features(text, &[], day));
    }
    let event = c
        .assign(&features("black friday shopper deal", &[], day))
        .event;
    for text in ["black friday deal store", "black friday shopper crowd"] {
        assert_eq!(c.assign(&features(text, &[], day)).event, event);
    }
    c.assign(&features("black nativity review", &[], day)).event == event
}

#[test]
fn one_shared_word_is_enough_only_when_time_backs_it() {
    let loose = ClusterConfig {
        min_shared_keys: 1,
        ..ClusterConfig::default()
    };
    assert!(
        one_shared_word_joins(loose, None),
        "the case needs the rule"
    );
    assert!(!one_shared_word_joins(ClusterConfig::default(), None));
    // Within the burst (same minute) the shared word is backed by time.
    assert!(one_shared_word_joins(ClusterConfig::default(), Some(1)));
}

#[test]
fn old_events_take_no_new_articles_and_retire() {
    let mut c = Clusterer::new(headline_pace());
    let a = c.assign(&features("quake strike coast tsunami", &["chile"], Some(1)));
    let _ = c.assign(&features("unrelated market stock rally", &[], Some(20)));
    let changes = c.take_changes();
    assert!(changes.retired_events.contains(&a.event));
    let b = c.assign(&features(
        "quake strike coast tsunami",
        &["chile"],
        Some(21),
    ));
    assert_ne!(b.event, a.event);
}

#[test]
fn stories_beyond_the_cap_retire_least_recent_first_but_never_with_live_events() {
    let cfg = ClusterConfig {
        max_live_stories: 2,
        ..headline_pace()
    };
    let mut c = Clusterer::new(cfg);
    let texts = [
        "quake strike coast tsunami",
        "parliament vote budget deficit",
        "football final stadium goal",
        "election ballot candidate turnout",
    ];
    // Four unrelated stories on day 1; by day 8 their events have all retired (2-day
    // window), while the stories are still inside their 45-day window.
    let first: Vec<Assignment> = texts
        .iter()
        .map(|t| c.assign(&features(t, &[], Some(1))))
        .collect();
    let _ = c.take_changes();
    let fresh = c.assign(&features("comet telescope orbit discovery", &[], Some(8)));
    let changes = c.take_changes();
    let mut retired = changes.retired_stories.clone();
    retired.sort_unstable();
    // Five stories, cap two: the three least recently active idle ones go.
    let oldest: Vec<StoryId> = first.iter().take(3).map(|a| a.story).collect();
    assert_eq!(retired, oldest);
    assert!(
        !retired.contains(&fresh.story),
        "a story with a live event stays"
    );
}

#[test]
fn a_large_event_keeps_its_most_mentioned_entities_and_unfiles_the_rest() {
    let mut c = Clusterer::new(ClusterConfig::default());
    let text = "quake strike coast tsunami warning";
    let first = c.assign(&features(text, &["chile"], Some(1)));
    // 250 articles of the same event, each naming the event's place and one passing name.
    let names: Vec<String> = (0..250).map(|i| format!("passer{i}")).collect();
    for n in &names {
        let a = c.assign(&features(text, &["chile", n], Some(1)));
        assert_eq!(a.event, first.event);
    }
    let e = &c.events[&first.event];
    assert!(
        e.entities.len() <= MAX_EVENT_ENTITIES * 2,
        "{}",
        e.entities.len()
    );
    assert_eq!(e.entities.get("chile"), Some(&251), "the main entity stays");
    // Every dropped name left the index too; every kept one is filed.
    for n in &names {
        let filed = c
            .index
            .by_entity
            .get(n)
            .is_some_and(|s| s.contains(&first.event));
        assert_eq!(filed, e.entities.contains_key(n), "{n}");
    }
}

/// An article as close to two live events as to either starts a third.
#[test]
fn an_article_between_two_events_starts_its_own() {
    let words =
        |prefix: &str, n: usize| -> String { (0..n).map(|i| format!("{prefix}{i} ")).collect() };
    let a = format!("{}{}", words("bg", 10), words("a", 100));
    let b = format!("{}{}", words("bg", 10), words("b", 100));
    let probe = format!("{}{}{}", words("bg", 10), words("a", 50), words("b", 50));
    for (margin, own) in [(0.0, false), (0.05, true)] {
        let mut c = Clusterer::new(ClusterConfig {
            ambiguity_margin: margin,
            ..ClusterConfig::default()
        });
        // Two entities each: an undated article's candidate must share two keys with it,
        // and its heaviest terms (ties to the older) all point to the first event.
        let ea = c.assign(&features(&a, &["x", "x2"], None)).event;
        assert_eq!(c.assign(&features(&a, &["x", "x2"], None)).event, ea);
        let eb = c.assign(&features(&b, &["y", "y2"], None)).event;
        assert_eq!(c.assign(&features(&b, &["y", "y2"], None)).event, eb);
        assert_ne!(ea, eb);
        let p = c.assign(&features(&probe, &["x", "x2", "y", "y2"], None));
        assert_eq!(p.new_event, own, "margin {margin}");
    }
}

/// The mean-cosine estimate of an event formed at the start of a stream follows the IDF
/// as it rises: after a hundred more documents it stays near the mean cosine computed
/// member by member, where the sum of the norms the members had when they joined put it
/// at nearly three times that.
#[test]
fn mean_cosine_of_an_early_event_follows_the_idf() {
    let members = [
        "pompeo korea kim summit trip secret director",
        "pompeo korea kim summit meet envoy visit",
        "pompeo korea kim summit talks plan week",
    ];
    let mut c = Clusterer::new(ClusterConfig::default());
    let event = c.assign(&features(members[0], &[], None)).event;
    for text in &members[1..] {
        assert_eq!(c.assign(&features(text, &[], None)).event, event);
    }
    for i in 0..100 {
        let text = format!("filler{i} other{i} words{i} korea");
        c.assign(&features(&text, &[], None));
    }
    let mut vocab_probe = |text: &str| {
        let counts = c.vocab.counts(&TermBag::new(text.split_whitespace()));
        ArticleVector::of_counts(&counts, &c.vocab).0
    };
    let probe = vocab_probe("kim korea test nuclear halt pompeo");
    let vectors: Vec<_> = members.iter().map(|m| vocab_probe(m).terms).collect();
    let dot = |a: &[(TermId, f32)], b: &[(TermId, f32)]| -> f32 {
        a.iter()
            .filter_map(|(t, x)| b.iter().find(|(u, _)| u == t).map(|(_, y)| x * y))
            .sum()
    };
    let exact = vectors.iter().map(|v| dot(&probe.terms, v)).sum::<f32>() / 3.0;
    let e = &c.events[&event];
    let level = c.vocab.idf_level();
    let estimate = e.centroid.dot(&probe) / e.signals.norm_sum_at(level);
    let stale = e.centroid.dot(&probe) / e.signals.norm_sum;
    assert!(
        (estimate / exact - 1.0).abs() < 0.25,
        "{estimate} vs {exact}"
    );
    assert!(stale > exact * 1.5, "{stale} vs {exact}");
}

#[test]
fn disjoint_years_in_the_lead_keep_same_kind_events_apart() {
    // Disjoint years halve the score: enough to fall under a strict threshold.
    let mut c = Clusterer::new(ClusterConfig {
        event_threshold: 0.8,
        merge_threshold: 0.9,
        ..ClusterConfig::default()
    });
    let mut a = features("quake strike island coast injur", &["iran"], None);
    a.years = vec![2005];
    let mut b = features("quake strike island coast injur", &["iran"], None);
    b.years = vec![2008];
    let mut d = features("quake strike island coast injur", &["iran"], None);
    d.years = vec![2005, 2006];
    let (a, b, d) = (c.assign(&a), c.assign(&b), c.assign(&d));
    assert_ne!(a.event, b.event);
    assert_eq!(a.event, d.event);
    assert_eq!(a.story, b.story, "same kind of event, same story");
}

#[test]
fn large_clusters_are_checked_for_merges_as_they_grow_by_an_eighth() {
    // Never checked, or small: always.
    assert!(merge_check_due(500, 0));
    assert!((1..=8).all(|n| merge_check_due(n, n)));
    // Large: not on every article, but once it has grown by an eighth.
    assert!(!merge_check_due(9, 9));
    assert!(!merge_check_due(17, 16));
    assert!(merge_check_due(18, 16));
    assert!(!merge_check_due(449, 400));
    assert!(merge_check_due(450, 400));
    // A merge into a cluster makes it due at once.
    assert!(merge_check_due(900, 400));
}

#[test]
fn events_that_converge_merge_and_the_store_learns_where() {
    let cfg = ClusterConfig {
        event_threshold: 0.9,
        merge_threshold: 0.6,
        ..headline_pace()
    };
    let mut c = Clusterer::new(cfg);
    let a = c.assign(&features("vote parliament budget", &[], Some(1)));
    let b = c.assign(&features("vote senate tax", &[], Some(1)));
    assert_ne!(a.event, b.event);
    // An article bridging both pulls b's centroid toward a's: they merge.
    let m = c.assign(&features("vote parliament budget senate tax", &[], Some(1)));
    assert_eq!(c.resolve(a.event), c.resolve(b.event));
    assert_eq!(m.event, c.resolve(a.event));
    let changes = c.take_changes();
    assert!(!changes.merged_events.is_empty());
    for &(from, _) in &changes.merged_events {
        assert_eq!(changes.resolve_event(from), m.event);
    }
    // Once the merged event retires, its merge trail goes too: the map follows the
    // live events, not every merge of the run.
    let _ = c.assign(&features("unrelated market stock rally", &[], Some(20)));
    let changes = c.take_changes();
    assert!(changes.retired_events.contains(&m.event));
    assert!(c.redirect.is_empty(), "{:?}", c.redirect);
}

/// Two live events with centroids of one direction: `tight` of two full copies of the
/// article's words (plus one word it lacks), `loose` of two reports sharing none, one
/// with each half of them. By centroid `loose` is the closer; by mean cosine to the
/// members (what the reports are actually like) `tight` is.
fn tight_and_loose(config: ClusterConfig) -> (Clusterer, EventId) {
    // `loose` is event 1, `tight` event 2.
    let words: Vec<String> = (0..120).map(|i| format!("w{i}")).collect();
    let mut rows: Vec<(TermId, String, u32, u32)> = words
        .iter()
        .enumerate()
        .map(|(i, w)| (i as TermId, w.clone(), 3, 0))
        .collect();
    rows.push((120, "extra".into(), 2, 0));
    let vocab = Vocab::restore(rows, 4, (0, 4));
    let idf = vocab.idf(0);
    let weights = |ids: std::ops::Range<u32>, w: f32| -> StableMap<TermId, f32> {
        ids.map(|id| (id, w)).collect()
    };
    let event = |id: EventId, weights: StableMap<TermId, f32>, norm_sum: f32| EventState {
        id,
        story: StoryId(1),
        first_time: None,
        last_time: None,
        n_articles: 2,
        centroid: Centroid::from_weights(weights, &vocab),
        entities: HashMap::default(),
        last_seq: 1,
        signals: EventSignals {
            norm_sum,
            ..EventSignals::default()
        },
        merge_checked_at: 0,
    };
    // Member norms when they joined: all 120 words (and "extra"), or 60 of them.
    let full = (120.0f32 * idf * idf + vocab.idf(120).powi(2)).sqrt();
    let half = (60.0f32).sqrt() * idf;
    let loose = event(EventId(1), weights(0..120, 1.0), 2.0 * half);
    let mut tight_weights = weights(0..120, 2.0);
    tight_weights.insert(120, 2.0);
    let tight = event(EventId(2), tight_weights, 2.0 * full);
    let story = StoryState {
        id: StoryId(1),
        first_time: None,
        last_time: None,
        n_articles: 4,
        n_events: 2,
        centroid: Centroid::from_weights(weights(0..120, 3.0), &vocab),
        last_seq: 1,
        norm_sum: 2.0 * (full + half),
        norm_level: 0.0,
        merge_checked_at: 0,
    };
    let c = Clusterer::from_parts(
        config,
        vocab,
        vec![loose, tight],
        vec![(story, None)],
        EventId(3),
        StoryId(2),
        None,
        1,
    );
    (c, EventId(2))
}

#[test]
fn an_article_joins_the_event_whose_reports_it_is_like_not_the_nearest_centroid() {
    let article = features(
        &(0..120).map(|i| format!("w{i} ")).collect::<String>(),
        &[],
        None,
    );
    let (mut c, tight) = tight_and_loose(ClusterConfig::default());
    assert_eq!(c.assign(&article).event, tight, "average link");
    let centroid_only = ClusterConfig {
        mean_link: 0.0,
        ..ClusterConfig::default()
    };
    let (mut c, _) = tight_and_loose(centroid_only);
    assert_eq!(
        c.assign(&article).event,
        EventId(1),
        "centroid cosine alone: loose"
    );
}

/// Two reports of one kind of event that differ in their main participant: each says
/// its own name again and again, and the second names the first's once in passing.
#[test]
fn an_article_whose_protagonist_the_event_never_names_starts_its_own() {
    // Each report: words of the kind of event (said twice, so that they find the event),
    // words of its own, and its participant's name again and again.
    let report = |own: &str, name: &str, times: usize, extra: &str| -> String {
        let kind: String = (0..30).map(|i| format!("w{i} w{i} ")).collect();
        let own: String = (0..60).map(|i| format!("{own}{i} ")).collect();
        format!("{kind}{own}{}{extra}", format!("{name} ").repeat(times))
    };
    let first = report("a", "rahman", 6, "");
    let second = report("b", "thompson", 6, "rahman");
    let same = report("c", "rahman", 5, "");
    let default = ClusterConfig::default().protagonist_penalty;
    for (penalty, apart) in [(1.0, false), (default, true)] {
        let mut c = Clusterer::new(ClusterConfig {
            protagonist_penalty: penalty,
            ..ClusterConfig::default()
        });
        let a = c.assign(&named(&first, &["rahman"]));
        let b = c.assign(&named(&second, &["thompson", "rahman"]));
        assert_eq!(a.event != b.event, apart, "penalty {penalty}");
        // A report naming the same participant still joins.
        assert_eq!(c.assign(&named(&same, &["rahman"])).event, a.event);
    }
    // A word said again and again is no protagonist unless it is part of a name.
    let mut c = Clusterer::new(ClusterConfig::default());
    let a = c.assign(&features(&first, &[], None));
    let b = c.assign(&features(&second, &[], None));
    assert_eq!(a.event, b.event, "no names, no protagonists");
}

/// An event of several reports none of which says the article's most repeated name:
/// the article is about something else even though it shares the event's own names.
#[test]
fn an_article_whose_protagonist_a_grown_event_never_says_is_not_taken_in() {
    // Each report of the trip: words of the kind, its own words, the place again and again.
    let report = |own: &str| -> String {
        let kind: String = (0..30).map(|i| format!("w{i} w{i} ")).collect();
        let own: String = (0..20).map(|i| format!("{own}x{i} ")).collect();
        format!("{kind}{own}korea korea korea korea korea")
    };
    // Half the words of the kind, the place, and its own repeated name.
    let half: String = (0..15).map(|i| format!("w{i} w{i} ")).collect();
    let tests = format!("{half}korea korea korea korea korea {}", "test ".repeat(5));
    for (min_articles, apart) in [(u64::MAX, false), (4, true)] {
        let mut c = Clusterer::new(ClusterConfig {
            protagonist_absent_articles: min_articles,
            ..ClusterConfig::default()
        });
        let trip = c.assign(&named(&report("a0"), &["korea"])).event;
        for i in 1..4 {
            let own = format!("a{i}");
            let e = c.assign(&named(&report(&own), &["korea"])).event;
            assert_eq!(e, trip);
        }
        // Whether it is taken in; a merge check may still join the two clusters later.
        let a = c.assign(&named(&tests, &["korea", "test"]));
        assert_eq!(a.new_event, apart, "at {min_articles}");
    }
}

#[test]
fn copies_join_the_event_of_their_original() {
    let mut c = Clusterer::new(ClusterConfig::default());
    let a = c.assign(&features("quake strike coast", &[], Some(1)));
    let mut f = features("totally different words", &[], Some(1));
    f.copy_of_event = Some(a.event);
    assert_eq!(c.assign(&f).event, a.event);
}

/// What the store keeps of the live events and stories gives them back as they were.
#[test]
fn live_state_round_trips_through_a_snapshot() {
    let mut c = Clusterer::new(ClusterConfig::default());
    let texts = ["ferry harbour strike pay pay", "ferry harbour strike union"];
    let placed: Vec<Assignment> = (texts.iter())
        .map(|t| c.assign(&features(t, &["oslo"], Some(2))))
        .collect();
    let a = placed[0];
    assert_eq!(a.event, placed[1].event);
    let changes = c.take_changes();
    let df: HashMap<TermId, u32> = changes.terms.df_increments.iter().copied().collect();
    let snapshot = Snapshot {
        terms: (changes.terms.new_terms.iter())
            .map(|(id, t)| (*id, t.clone(), df[id], changes.terms.counted_in))
            .collect(),
        n_docs: changes.n_docs,
        sweeps: changes.sweeps,
        events: changes.events.clone(),
        stories: changes.stories.clone(),
        next_event: a.event.next(),
        next_story: a.story.next(),
        clock: c.clock(),
        seq: c.seq(),
    };
    let restored = Clusterer::restore(ClusterConfig::default(), snapshot);
    let (event, story) = (&restored.events[&a.event], &restored.stories[&a.story]);
    assert_eq!(
        (
            event.snapshot(),
            story.snapshot(restored.index.story_terms(a.story))
        ),
        (changes.events[0].clone(), changes.stories[0].clone())
    );
    let live = (&c.events[&a.event].centroid, &c.stories[&a.story].centroid);
    assert_eq!((&event.centroid, &story.centroid), live);
}

#[test]
fn full_reports_keep_an_event_open_for_days_where_headlines_do_not() {
    let report: String = (0..120).map(|i| format!("w{i} ")).collect();
    let follow_up = format!("{report} victim named");
    let mut c = Clusterer::new(ClusterConfig::default());
    let first = c.assign(&features(&report, &["akron"], Some(1)));
    // Ten days later a follow-up report of the same incident still joins it.
    let later = c.assign(&features(&follow_up, &["akron"], Some(11)));
    assert_eq!(later.event, first.event);

    let mut c = Clusterer::new(ClusterConfig::default());
    let first = c.assign(&features("quake strike coast tsunami", &["chile"], Some(1)));
    let later = c.assign(&features(
        "quake strike coast tsunami",
        &["chile"],
        Some(11),
    ));
    assert_ne!(
        later.event, first.event,
        "a headline ten days on is a new event"
    );
}

#[test]
fn a_report_naming_its_incidents_day_is_placed_at_that_day_a_headline_is_not() {
    let report: String = (0..120).map(|i| format!("w{i} ")).collect();
    let follow_up = format!("{report} suspect charged");
    let at = |days: i64| {
        Some(Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0).unwrap() + chrono::Duration::days(days))
    };
    let later_report = |happened| ArticleFeatures {
        time: at(70),
        happened,
        ..features(&follow_up, &["akron"], None)
    };
    // Seventy days on (beyond the 60-day window), a report naming the incident's day joins the incident's event ...
    let mut c = Clusterer::new(ClusterConfig::default());
    let first = c.assign(&ArticleFeatures {
        time: at(0),
        ..features(&report, &["akron"], None)
    });
    assert_eq!(c.assign(&later_report(at(0))).event, first.event);
    // ... where the same report naming no day is too far from it.
    let mut c = Clusterer::new(ClusterConfig::default());
    let first = c.assign(&ArticleFeatures {
        time: at(0),
        ..features(&report, &["akron"], None)
    });
    assert_ne!(c.assign(&later_report(None)).event, first.event);
    // A headline keeps its publication time: a day is too coarse for its pace of hours.
    let mut c = Clusterer::new(ClusterConfig::default());
    let headline = |time, happened| ArticleFeatures {
        time,
        happened,
        ..features("quake strike coast tsunami", &["chile"], None)
    };
    let first = c.assign(&headline(at(0), None));
    assert_ne!(c.assign(&headline(at(10), at(0))).event, first.event);
}

/// Two headlines abbreviating a name, then one spelling it out: whether it joins them.
fn spelled_out_name_joins_its_acronym(acronym_weight: f32) -> bool {
    let mut c = Clusterer::new(ClusterConfig {
        acronym_weight,
        ..ClusterConfig::default()
    });
    let a = c.assign(&features("ufw strike vote harvest", &[], None));
    let b = c.assign(&features("ufw picket line harvest", &[], None));
    assert_eq!(b.event, a.event);
    c.assign(&features("budget vote parliament", &[], None));
    let spelled = ArticleFeatures {
        acronyms: vec![vector::term_key("ufw"), vector::term_key("fwp")],
        ..features("united farm worker picket", &[], None)
    };
    c.assign(&spelled).event == a.event
}

#[test]
fn a_name_spelled_out_joins_the_headlines_that_abbreviate_it() {
    assert!(spelled_out_name_joins_its_acronym(1.0));
    assert!(!spelled_out_name_joins_its_acronym(0.0));
}

/// A full report (60 distinct words) of a raid: 20 words every raid report uses, each
/// twice, then 40 words of its own, naming `entities` and giving `figures`.
fn raid_report(own: &str, entities: &[&str], figures: &[&str]) -> ArticleFeatures {
    let shared = (0..40).map(|i| format!("raid{}", i % 20));
    let own = (0..40).map(|i| format!("{own}{i}"));
    let words: Vec<String> = shared.chain(own).collect();
    let names: Vec<String> = entities.iter().map(|s| s.to_string()).collect();
    let figures: Vec<String> = figures.iter().map(|s| s.to_string()).collect();
    ArticleFeatures {
        particulars: particulars(&names, &figures),
        ..features(&words.join(" "), entities, None)
    }
}

#[test]
fn a_report_naming_none_of_an_events_particulars_starts_its_own() {
    let first = || {
        raid_report(
            "alpha",
            &["marlow harbour", "captain elsa brandt", "north shoal"],
            &["23", "140", "6"],
        )
    };
    // The same kind of raid elsewhere: a third of its words shared, none of its names or
    // figures.
    let other = raid_report(
        "beta",
        &["kestrel bay", "admiral tomas lind", "south reef"],
        &["31", "900", "4"],
    );
    // Another report of the first raid, in words of its own but naming its particulars.
    let same = raid_report(
        "gamma",
        &["marlow harbour", "captain elsa brandt", "north shoal"],
        &["23", "140"],
    );
    let mut c = Clusterer::new(ClusterConfig::default());
    let a = c.assign(&first());
    assert!(c.assign(&other).new_event, "another raid joined the first");
    assert_eq!(c.assign(&same).event, a.event);

    // Without the rule the words alone put the other raid with the first.
    let mut c = Clusterer::new(ClusterConfig {
        particulars_min_cosine: 0.0,
        ..ClusterConfig::default()
    });
    let a = c.assign(&first());
    assert_eq!(c.assign(&other).event, a.event, "the case needs the rule");

    // An event stored before particulars were kept is not held to them, nor to those of
    // the members it takes after: they are not all it has.
    let mut c = Clusterer::new(ClusterConfig::default());
    let a = c.assign(&first());
    if let Some(e) = c.events.get_mut(&a.event) {
        e.signals.particulars = None;
    }
    assert_eq!(c.assign(&same).event, a.event);
    assert_eq!(c.events[&a.event].signals.particulars, None);
    assert_eq!(c.assign(&other).event, a.event);
}
