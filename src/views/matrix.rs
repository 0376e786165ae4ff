//! Matrix views: rows of one kind by columns of another, a cell listing the pages that connect them.

use super::*;

/// One matrix view. Without `lists`, only what names it (its cells come with [`fill_lists`]).
pub(super) fn matrix_ctx<K: std::borrow::Borrow<str> + std::hash::Hash + Eq>(
    m: &crate::config::MatrixConfig,
    by_kind: &HashMap<K, Vec<usize>>,
    outgoing: &[Vec<usize>],
    page_refs: &[PageRef],
    base: &str,
    lists: bool,
) -> MatrixCtx {
    let (rows, cols) = if lists {
        (
            by_kind.get(m.rows.as_str()).cloned().unwrap_or_default(),
            by_kind.get(m.cols.as_str()).cloned().unwrap_or_default(),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let col_pos: HashMap<usize, usize> = cols.iter().enumerate().map(|(j, &c)| (c, j)).collect();
    let row_pos: HashMap<usize, usize> = rows.iter().enumerate().map(|(j, &r)| (r, j)).collect();
    // Sparse first: row -> column -> connecting pages (empty for a direct link).
    let mut sparse: Vec<BTreeMap<usize, Vec<usize>>> = vec![BTreeMap::new(); rows.len()];
    match &m.via {
        Some(via) => {
            for &v in by_kind.get(via.as_str()).map(Vec::as_slice).unwrap_or(&[]) {
                let mut rs: Vec<usize> = outgoing[v]
                    .iter()
                    .filter_map(|t| row_pos.get(t).copied())
                    .collect();
                let mut cs: Vec<usize> = outgoing[v]
                    .iter()
                    .filter_map(|t| col_pos.get(t).copied())
                    .collect();
                rs.sort_unstable();
                rs.dedup();
                cs.sort_unstable();
                cs.dedup();
                for &r in &rs {
                    for &c in &cs {
                        sparse[r].entry(c).or_default().push(v);
                    }
                }
            }
        }
        None => {
            for (ri, &r) in rows.iter().enumerate() {
                for t in &outgoing[r] {
                    if let Some(&c) = col_pos.get(t) {
                        sparse[ri].entry(c).or_default();
                    }
                }
            }
            for (ci, &c) in cols.iter().enumerate() {
                for t in &outgoing[c] {
                    if let Some(&r) = row_pos.get(t) {
                        sparse[r].entry(ci).or_default();
                    }
                }
            }
        }
    }
    let table = rows.len() * cols.len() <= MAX_TABLE_CELLS;
    let cell = |pages: Option<&Vec<usize>>| MatrixCell {
        direct: pages.is_some_and(Vec::is_empty),
        pages: pages
            .map(|p| p.iter().map(|&v| page_refs[v].clone()).collect())
            .unwrap_or_default(),
    };
    let matrix_rows = rows
        .iter()
        .zip(&sparse)
        .map(|(&r, row)| MatrixRow {
            page: page_refs[r].clone(),
            cells: if table {
                (0..cols.len()).map(|c| cell(row.get(&c))).collect()
            } else {
                Vec::new()
            },
            links: if table {
                Vec::new()
            } else {
                row.iter()
                    .map(|(&c, pages)| MatrixLink {
                        col: page_refs[cols[c]].clone(),
                        cell: cell(Some(pages)),
                    })
                    .collect()
            },
        })
        .collect();
    MatrixCtx {
        slug: m.slug.clone(),
        title: m.title.clone(),
        description: m.description.clone(),
        url: format!("{base}matrices/{}/", slugify(&m.slug)),
        row_kind: m.rows.clone(),
        col_kind: m.cols.clone(),
        via: m.via.clone(),
        table,
        cols: if table {
            cols.iter().map(|&c| page_refs[c].clone()).collect()
        } else {
            Vec::new()
        },
        rows: matrix_rows,
    }
}
