//! Edits while serving: reload events and new content, broken edits that keep the old page and report
//! where, fixes that clear them, stylesheet swaps, bursts, deletions and renames.

use std::time::Duration;

use super::{fixture, write, Server, WAIT};

#[test]
fn an_edit_sends_a_reload_for_that_page_and_serves_the_new_text() {
    let site = fixture();
    let s = Server::start(site.path(), &[]);
    let events = s.events();
    // A new paragraph after the first: only this page shows it.
    write(
        site.path(),
        "content/notes/solo.md",
        "---\ntitle: Solo\n---\n\nA lonely note.\n\nWith a second paragraph.\n",
    );
    let reload = events.next("reload");
    assert_eq!(reload["all"], false);
    assert_eq!(
        reload["paths"],
        serde_json::json!(["notes/solo/index.html"])
    );
    assert!(s
        .get("/notes/solo/")
        .text()
        .contains("With a second paragraph."));
    s.wait_printed("page only", 1);
    s.wait_settled(WAIT, "the search index");
    let manifest = s.get("/search/manifest.json").text();
    // A new first paragraph is the page's summary, which its section index shows too.
    write(
        site.path(),
        "content/notes/solo.md",
        "---\ntitle: Solo\n---\n\nA lonely note, edited.\n",
    );
    let reload = events.next("reload");
    let paths: Vec<&str> = reload["paths"]
        .as_array()
        .expect("paths")
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    assert_eq!(paths, ["notes/solo/index.html"]);
    // The section index that shows the summary follows in a second reload, with the lists.
    let reload = events.next("reload");
    assert_eq!(reload["paths"], serde_json::json!(["notes/index.html"]));
    assert!(s.get("/notes/").text().contains("A lonely note, edited."));
    // The search index follows once the reload is out.
    s.wait_settled(WAIT, "the search index");
    assert_ne!(
        s.get("/search/manifest.json").text(),
        manifest,
        "the search index follows the new text"
    );
}

#[test]
fn a_title_edit_updates_the_pages_that_show_it() {
    let site = fixture();
    let s = Server::start(site.path(), &[]);
    let events = s.events();
    write(
        site.path(),
        "content/tools/beta.md",
        "---\ntitle: Beta Prime\n---\n\nBeta is the second tool.\n",
    );
    // The pages first, then the lists (the kind's index) in a second reload.
    let mut paths: Vec<String> = Vec::new();
    for _ in 0..2 {
        let reload = events.next("reload");
        paths.extend(
            reload["paths"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_string()),
        );
    }
    for must in [
        "tools/beta/index.html",
        "playbooks/run/index.html",
        "tools/index.html",
    ] {
        assert!(paths.contains(&must.to_string()), "{must} not in {paths:?}");
    }
    assert!(
        !paths.contains(&"notes/solo/index.html".to_string()),
        "{paths:?}"
    );
    // The playbook's body link shows the new title.
    assert!(s.get("/playbooks/run/").text().contains("Beta Prime"));
}

#[test]
fn a_broken_edit_keeps_the_old_page_and_says_where_until_fixed() {
    let site = fixture();
    let s = Server::start(site.path(), &[]);
    let events = s.events();
    let good = "---\ntitle: Run\ntools: [alpha]\n---\n\nRun it with [[beta]].\n";
    // An unclosed list in the front matter.
    write(
        site.path(),
        "content/playbooks/run.md",
        "---\ntitle: Run\ntools: [alpha\n---\n\nRun it quickly.\n",
    );
    let problems = events.next("problems");
    let first = &problems[0];
    let location = first["location"].as_str().unwrap();
    assert!(
        location.starts_with("content/playbooks/run.md:"),
        "{problems}"
    );
    assert_eq!(location.split(':').count(), 3, "{location}");
    // The YAML error is among them, with its position and the source line.
    assert!(
        problems
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["code"] == "yaml"
                && p["location"]
                    .as_str()
                    .unwrap()
                    .starts_with("content/playbooks/run.md:")
                && p["text"].as_str().unwrap().contains(" │ ")),
        "{problems}"
    );
    // The last good page is still served.
    let page = s.get("/playbooks/run/");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Run it with"));
    assert!(!page.text().contains("quickly"));
    // The terminal says the same.
    s.wait_printed("content/playbooks/run.md:", 1);
    s.wait_printed("still serving the last good site", 1);
    // A page opened now gets the problems at once.
    let late = s.events();
    assert!(late.next("problems")[0]["location"]
        .as_str()
        .unwrap()
        .starts_with("content/playbooks/run.md:"));

    // A broken link in the body is reported too, with its line and column.
    write(
        site.path(),
        "content/playbooks/run.md",
        "---\ntitle: Run\ntools: [alpha]\n---\n\nRun it with [[gamma]].\n",
    );
    let problems = events.next("problems");
    assert_eq!(
        problems[0]["location"], "content/playbooks/run.md:6:13",
        "{problems}"
    );
    assert_eq!(problems[0]["code"], "unknown-link");

    // Fixing the file clears it: back to the last good text, nothing to re-render, but `ok`.
    write(site.path(), "content/playbooks/run.md", good);
    events.next("ok");
    // And a real fix with new text reloads.
    write(
        site.path(),
        "content/playbooks/run.md",
        "---\ntitle: Run\ntools: [alpha]\n---\n\nRun it with [[beta]], fixed.\n",
    );
    events.next("reload");
    s.wait_body("/playbooks/run/", "fixed.");
}

#[test]
fn a_broken_template_is_reported_and_the_site_stays() {
    let site = fixture();
    let s = Server::start(site.path(), &[]);
    let events = s.events();
    write(site.path(), "templates/page.html", "{% extends \"base.html\" %}{% block content %}{{ page.content | safe }{% endblock content %}");
    let problems = events.next("problems");
    assert!(
        problems[0]["location"]
            .as_str()
            .unwrap()
            .starts_with("templates/page.html"),
        "{problems}"
    );
    assert_eq!(s.get("/tools/alpha/").status, 200);
    write(site.path(), "templates/page.html", "{% extends \"base.html\" %}{% block content %}<p class=\"custom\">custom</p>{{ page.content | safe }}{% endblock content %}");
    let reload = events.next("reload");
    assert_eq!(reload["all"], true);
    s.wait_body("/tools/alpha/", "class=\"custom\"");
}

#[test]
fn a_stylesheet_change_is_swapped_not_reloaded() {
    let site = fixture();
    let s = Server::start(site.path(), &[]);
    let events = s.events();
    write(
        site.path(),
        "static/extra.css",
        "body { color: rgb(9, 9, 9); }\n",
    );
    let css = events.next("css");
    assert_eq!(css["paths"], serde_json::json!(["extra.css"]));
    assert!(s.get("/extra.css").text().contains("rgb(9, 9, 9)"));
}

#[test]
fn a_burst_of_changes_is_one_rebuild() {
    let site = fixture();
    let s = Server::start(site.path(), &[]);
    let events = s.events();
    let before = s.printed().matches("Updated").count();
    for n in 0..300 {
        write(
            site.path(),
            &format!("content/notes/burst-{n:03}.md"),
            &format!("---\ntitle: Burst {n}\n---\n\nBurst page {n}.\n"),
        );
    }
    events.next("reload");
    s.wait_body("/notes/burst-299/", "Burst page 299.");
    // Let any straggling batch through, then count rebuilds.
    let more = events.drain(Duration::from_millis(500));
    let rebuilds = s.printed().matches("Updated").count() - before;
    assert!(
        rebuilds <= 2,
        "{rebuilds} rebuilds for one burst ({more:?}):\n{}",
        s.printed()
    );
    assert_eq!(s.get("/notes/burst-000/").status, 200);
}

#[test]
fn deleted_and_renamed_files_are_followed() {
    let site = fixture();
    let s = Server::start(site.path(), &[]);
    let events = s.events();
    std::fs::rename(
        site.path().join("content/notes/solo.md"),
        site.path().join("content/notes/alone.md"),
    )
    .unwrap();
    events.next("reload");
    s.wait_body("/notes/alone/", "A lonely note.");
    assert_eq!(s.get("/notes/solo/").status, 404, "{}", s.printed());
    s.wait_settled(WAIT, "the search index");
    std::fs::remove_file(site.path().join("content/notes/alone.md")).unwrap();
    events.next("reload");
    s.wait_gone("/notes/alone/");
    // A whole folder going away and coming back.
    std::fs::rename(
        site.path().join("content/notes"),
        site.path().join("notes-away"),
    )
    .unwrap();
    std::fs::rename(
        site.path().join("notes-away"),
        site.path().join("content/notes"),
    )
    .unwrap();
    write(
        site.path(),
        "content/notes/back.md",
        "---\ntitle: Back\n---\n\nBack again.\n",
    );
    s.wait_body("/notes/back/", "Back again.");
    assert_eq!(s.get("/tools/alpha/").status, 200);
}

#[test]
fn an_editor_save_by_rename_is_one_update() {
    let site = fixture();
    let s = Server::start(site.path(), &[]);
    let events = s.events();
    let dir = site.path().join("content/tools");
    // vim-style: write a temp file, move the original away, move the temp file in, delete the backup.
    // The page must never be reported missing (the playbook references it).
    std::fs::write(dir.join(".alpha.md.swp"), "swap").unwrap();
    std::fs::write(
        dir.join("alpha.md.tmp"),
        "---\ntitle: Alpha\ntags: [red]\n---\n\nAlpha, saved by rename.\n\n![pic](pic.png)\n",
    )
    .unwrap();
    std::fs::rename(dir.join("alpha.md"), dir.join("alpha.md~")).unwrap();
    // A slow editor: the page is missing for longer than the quiet window.
    std::thread::sleep(Duration::from_millis(40));
    std::fs::rename(dir.join("alpha.md.tmp"), dir.join("alpha.md")).unwrap();
    std::fs::remove_file(dir.join("alpha.md~")).unwrap();
    std::fs::remove_file(dir.join(".alpha.md.swp")).unwrap();
    s.wait_body("/tools/alpha/", "saved by rename");
    let seen = events.drain(Duration::from_millis(300));
    assert!(seen.iter().any(|e| e == "reload"), "{seen:?}");
    assert!(
        seen.iter().all(|e| e != "problems"),
        "{seen:?}\n{}",
        s.printed()
    );
    assert_eq!(s.printed().matches("Updated").count(), 1, "{}", s.printed());
}
