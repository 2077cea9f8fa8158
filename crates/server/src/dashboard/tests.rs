//! The views alone: escaping of merchant- and user-supplied text, badges that carry their
//! state for tests and people, and the fixed set of post-action messages.

use maud::Markup;

use super::layout::{page, state_badge, when, Section};
use super::Done;

fn text(m: Markup) -> String {
    m.into_string()
}

#[test]
fn everything_supplied_is_escaped() {
    let html = text(page(
        "<script>x</script>",
        Section::Overview,
        None,
        maud::html! { (r#"<img src=x onerror="y">"#) },
    ));
    assert!(!html.contains("<script>x"), "{html}");
    assert!(!html.contains("<img src"), "{html}");
    assert!(html.contains("&lt;img src=x onerror=&quot;y&quot;&gt;"));
}

#[test]
fn the_current_section_is_marked_in_the_navigation() {
    let html = text(page("t", Section::Contracts, None, maud::html! {}));
    assert!(
        html.contains(r#"<a class="on" href="/dashboard/contracts">Contracts</a>"#),
        "{html}"
    );
    assert_eq!(html.matches(r#"class="on""#).count(), 1);
}

#[test]
fn badges_and_times_read_naturally() {
    assert_eq!(
        text(state_badge("SIGNED")),
        r#"<span class="badge b-green" data-state="SIGNED">SIGNED</span>"#
    );
    let t = time::macros::datetime!(2026-11-27 12:00:00 UTC);
    let shown = text(when(t));
    assert!(
        shown.contains(">2026-11-27 20:00:00<") && shown.contains("2026-11-27T20:00:00+08:00"),
        "{shown}"
    );
}

#[test]
fn done_messages_come_from_a_fixed_set() {
    for d in Done::ALL {
        assert_eq!(Done::parse(d.as_str()), Some(d));
    }
    assert_eq!(Done::parse("<b>pwned</b>"), None);
}
