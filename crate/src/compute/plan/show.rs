//! A plan as text: one line per step (operation, shape, element type, chunks), the
//! array's chunks grouped when they are made the same way, and their files shown as
//! a range (first … last, N files). Text from files (paths, names) is escaped
//! (`base::text::plain`), so it cannot break a line or form an evcxr command.

use std::fmt;
use std::path::PathBuf;

use super::{Graph, LazyPlan, Node, Plan, VarData};
use crate::base::text::plain;
use crate::compute::reduce::block_count;

/// Stands for a list of files in a rendered line until the lists are merged.
const FILES: &str = "\u{0}";

/// Rendered lines with the file lists their placeholders stand for, in order.
#[derive(Default, PartialEq)]
struct Lines {
    text: Vec<String>,
    files: Vec<Vec<PathBuf>>,
}

impl Lines {
    fn push(&mut self, depth: usize, line: String) {
        self.text.push(format!("{}{line}", "  ".repeat(depth)));
    }

    fn append(&mut self, other: Lines) {
        self.text.extend(other.text);
        self.files.extend(other.files);
    }
}

fn shape(s: &[usize]) -> String {
    let parts: Vec<String> = s.iter().map(usize::to_string).collect();
    format!("({})", parts.join(", "))
}

fn chunks(n: usize) -> String {
    if n == 1 {
        "1 chunk".into()
    } else {
        format!("{n} chunks")
    }
}

impl Graph {
    fn node(&self, id: usize, depth: usize) -> Lines {
        let mut out = Lines::default();
        let Some(info) = self.nodes.get(id) else {
            return out;
        };
        let what = format!("{} {}", shape(&info.shape), info.dtype);
        match &info.node {
            Node::File(f) => {
                out.push(
                    depth,
                    format!("read `{}` {what} from {FILES}", plain(&f.variable)),
                );
                out.files.push(vec![f.path.clone()]);
            }
            Node::Memory(_) => out.push(depth, format!("memory {what}")),
            Node::Part { of, axis, range } => {
                out.push(
                    depth,
                    format!("part {}..{} of axis {axis} {what}", range.start, range.end),
                );
                out.append(self.node(*of, depth + 1));
            }
            Node::Map { of, op } => {
                out.push(depth, format!("{op} → {what}"));
                out.append(self.node(*of, depth + 1));
            }
            Node::Join { of, axis } => {
                out.push(
                    depth,
                    format!("join {} along axis {axis} → {what}", of.len()),
                );
                out.append(self.group(of, depth + 1));
            }
            Node::Reduce { of, op } => {
                let blocks = block_count(of.shape.get(of.axis).copied().unwrap_or(1));
                let plural = if blocks == 1 { "" } else { "s" };
                out.push(
                    depth,
                    format!(
                        "{} over axis {} → {what}, {blocks} block{plural}",
                        op.name(),
                        of.axis
                    ),
                );
                out.append(self.lazy(of, depth + 1));
            }
            Node::Opaque(d) => out.push(
                depth,
                format!("opaque `{}` {what} (cannot be shipped)", plain(d)),
            ),
        }
        out
    }

    fn lazy(&self, l: &LazyPlan, depth: usize) -> Lines {
        let mut out = Lines::default();
        out.push(
            depth,
            format!(
                "array {} {}, {} along axis {}",
                shape(&l.shape),
                l.dtype,
                chunks(l.chunks.len()),
                l.axis
            ),
        );
        let ids: Vec<usize> = l.chunks.iter().map(|(_, id)| *id).collect();
        out.append(self.group(&ids, depth + 1));
        out
    }

    /// The nodes, runs made the same way (but for their files) shown once.
    fn group(&self, ids: &[usize], depth: usize) -> Lines {
        let mut out = Lines::default();
        let mut run: Option<(Lines, usize)> = None;
        let flush = |out: &mut Lines, run: Option<(Lines, usize)>| {
            if let Some((mut lines, n)) = run {
                if n > 1 {
                    if let Some(first) = lines.text.first_mut() {
                        first.push_str(&format!(" × {n}"));
                    }
                }
                out.append(lines);
            }
        };
        for id in ids {
            let lines = self.node(*id, depth);
            match &mut run {
                Some((r, n)) if r.text == lines.text => {
                    for (mine, theirs) in r.files.iter_mut().zip(lines.files) {
                        mine.extend(theirs);
                    }
                    *n += 1;
                }
                _ => {
                    flush(&mut out, run.take());
                    run = Some((lines, 1));
                }
            }
        }
        flush(&mut out, run);
        out
    }
}

fn files(list: &[PathBuf]) -> String {
    let name = |p: &PathBuf| {
        let n = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.display().to_string());
        plain(&n).to_string()
    };
    match list {
        [] => "no files".into(),
        [one] => plain(&one.display().to_string()).to_string(),
        [first, .., last] => {
            let dir = first
                .parent()
                .map(|d| format!("{}/", plain(&d.display().to_string())))
                .unwrap_or_default();
            format!(
                "{dir}{} … {} ({} files)",
                name(first),
                name(last),
                list.len()
            )
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Err(e) = self.array.check() {
            return write!(f, "no plan: {e}");
        }
        let g = &self.graph;
        let dims: Vec<String> = g
            .var
            .dims
            .iter()
            .zip(self.array.shape())
            .map(|(d, n)| format!("{}: {n}", plain(d)))
            .collect();
        writeln!(
            f,
            "<geoxr.Plan> {} ({}) {}, {} pieces, {} steps",
            plain(g.name.as_deref().unwrap_or("array")),
            dims.join(", "),
            self.array.dtype(),
            self.pieces(),
            g.nodes.len()
        )?;
        let lines = match &g.var.data {
            VarData::Memory(id) => g.node(*id, 1),
            // One chunk: the step that makes it is the array.
            VarData::Lazy(l) if l.chunks.len() == 1 => g.node(l.chunks[0].1, 1),
            VarData::Lazy(l) => g.lazy(l, 1),
        };
        let mut lists = lines.files.iter();
        for line in &lines.text {
            let mut text = String::new();
            let mut parts = line.split(FILES).peekable();
            while let Some(p) = parts.next() {
                text.push_str(p);
                if parts.peek().is_some() {
                    text.push_str(&lists.next().map(|l| files(l)).unwrap_or_default());
                }
            }
            writeln!(f, "{text}")?;
        }
        Ok(())
    }
}
