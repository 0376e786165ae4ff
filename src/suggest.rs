//! "Did you mean" hints: the closest known name to a misspelt one.

/// The candidate closest to `name`, if any is close enough to be a likely typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let name_l = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| {
            let c_l = c.to_lowercase();
            let score = strsim::jaro_winkler(&name_l, &c_l);
            let bonus = if c_l.contains(&name_l) || name_l.contains(&c_l) {
                0.1
            } else {
                0.0
            };
            (score + bonus, c)
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}

/// Up to `n` candidates closest to `name`, best first (for listing alternatives).
pub fn nearest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    n: usize,
) -> Vec<&'a str> {
    let name_l = name.to_lowercase();
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&name_l, &c.to_lowercase()), c))
        .filter(|(s, _)| *s >= 0.7)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.into_iter().take(n).map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_typos_not_strangers() {
        let c = ["positions", "tools", "owner"];
        assert_eq!(super::closest("postions", c), Some("positions"));
        assert_eq!(super::closest("tool", c), Some("tools"));
        assert_eq!(super::closest("zzz", c), None);
    }
}
