//! The book's configuration page (`docs/src/configuration.md`), rendered from the command
//! line itself: every subcommand's flags with their environment variable, default and help,
//! as `atone <subcommand> --help` shows them. The page is committed; a unit test renders it
//! again and fails when the committed one differs, so it cannot drift from the code.
//! `ATONE_BLESS=1 cargo test -p atone --lib config_page` writes it afresh.

use clap::{ArgAction, CommandFactory};

use crate::cli::Cli;

/// Where the page lives, from the repository's root.
pub const PAGE: &str = "docs/src/configuration.md";

/// How to write the page afresh, as the page and a failing test say it.
pub const REGENERATE: &str = "ATONE_BLESS=1 cargo test -p atone --lib config_page";

/// The configuration page, as Markdown.
pub fn render() -> String {
    let root = Cli::command();
    let mut page = String::new();
    page.push_str("# Configuration\n\n");
    page.push_str(&format!(
        "*This page is generated from atone's command line (`services/atone/src/cli/`) by \
         `services/atone/src/config_page.rs`: do not edit it by hand. After changing a flag, \
         regenerate it with `{REGENERATE}`.*\n\n"
    ));
    page.push_str(
        "Every flag below is what `atone <subcommand> --help` prints. A flag with an \
         environment variable may be given by that variable instead; the flag wins when both \
         are set. The standard environment atone also reads (`DATABASE_URL`, `RUST_LOG`, the \
         `OTEL_*` variables of tracing, and the AWS region and credentials) is described in \
         [Operations](operations.md#environment-outside-the-flags).\n\n",
    );

    page.push_str(&format!("## {}\n\n", root.get_name()));
    if let Some(about) = root.get_long_about().or(root.get_about()) {
        page.push_str(&format!("{}\n\n", one_line(&about.to_string())));
    }
    let subcommands: Vec<&clap::Command> = visible_subcommands(&root);
    page.push_str("| subcommand | what it does |\n| --- | --- |\n");
    for sub in &subcommands {
        page.push_str(&format!(
            "| [`{} {}`](#{}) | {} |\n",
            root.get_name(),
            sub.get_name(),
            anchor(&format!("{} {}", root.get_name(), sub.get_name())),
            escape(&about(sub)),
        ));
    }
    page.push('\n');

    let global: Vec<&clap::Arg> = root
        .get_arguments()
        .filter(|a| a.is_global_set() && !a.is_hide_set())
        .collect();
    if !global.is_empty() {
        page.push_str("Every subcommand, and `atone` with none, also takes:\n\n");
        table(&mut page, &global);
    }
    let serve = subcommands.iter().find(|s| s.get_name() == "serve");
    let own = |cmd: &clap::Command| -> Vec<String> {
        visible_args(cmd)
            .iter()
            .map(|a| a.get_id().to_string())
            .collect()
    };
    match serve {
        Some(serve) if own(&root) == own(serve) => page.push_str(&format!(
            "With no subcommand, `atone` serves: it takes the flags of \
             [`atone serve`](#{}).\n\n",
            anchor("atone serve")
        )),
        _ => {
            page.push_str("With no subcommand, `atone` serves, and takes:\n\n");
            table(&mut page, &visible_args(&root));
        }
    }

    for sub in subcommands {
        section(&mut page, 2, root.get_name(), sub);
    }
    page
}

/// A subcommand's section: what it does, its flags, then its own subcommands one level down.
fn section(page: &mut String, level: usize, parent: &str, cmd: &clap::Command) {
    let name = format!("{parent} {}", cmd.get_name());
    page.push_str(&format!("{} {name}\n\n", "#".repeat(level)));
    let about = about(cmd);
    if !about.is_empty() {
        page.push_str(&format!("{}\n\n", escape(&about)));
    }
    let args = visible_args(cmd);
    let subcommands = visible_subcommands(cmd);
    if !args.is_empty() {
        table(page, &args);
    } else if subcommands.is_empty() {
        page.push_str("It takes no flags.\n\n");
    }
    for sub in subcommands {
        section(page, level + 1, &name, sub);
    }
}

fn visible_subcommands(cmd: &clap::Command) -> Vec<&clap::Command> {
    cmd.get_subcommands().filter(|s| !s.is_hide_set()).collect()
}

/// The flags a user gives: not hidden, not global (those are listed once, at the top), not
/// clap's own `--help` and `--version`.
fn visible_args(cmd: &clap::Command) -> Vec<&clap::Arg> {
    cmd.get_arguments()
        .filter(|a| !a.is_hide_set() && !a.is_global_set())
        .filter(|a| !matches!(a.get_action(), ArgAction::Help | ArgAction::Version))
        .collect()
}

fn about(cmd: &clap::Command) -> String {
    cmd.get_long_about()
        .or(cmd.get_about())
        .map(|s| one_line(&s.to_string()))
        .unwrap_or_default()
}

fn table(page: &mut String, args: &[&clap::Arg]) {
    page.push_str("| flag | environment | default | meaning |\n| --- | --- | --- | --- |\n");
    for arg in args {
        page.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            flag(arg),
            arg.get_env()
                .map(|e| format!("`{}`", e.to_string_lossy()))
                .unwrap_or_default(),
            default(arg),
            escape(&meaning(arg)),
        ));
    }
    page.push('\n');
}

/// `--listen`, `-o, --out`, or `<FILE>` for a positional argument.
fn flag(arg: &clap::Arg) -> String {
    let value = arg
        .get_value_names()
        .and_then(|names| names.first())
        .map(|name| name.to_string())
        .unwrap_or_else(|| arg.get_id().to_string().to_uppercase());
    match (arg.get_short(), arg.get_long()) {
        (_, None) if arg.is_positional() => format!("`<{value}>`"),
        (Some(short), Some(long)) => format!("`-{short}`, `--{long}`"),
        (None, Some(long)) => format!("`--{long}`"),
        (Some(short), None) => format!("`-{short}`"),
        (None, None) => format!("`{value}`"),
    }
}

fn default(arg: &clap::Arg) -> String {
    if matches!(arg.get_action(), ArgAction::SetTrue) {
        return "off".to_owned();
    }
    let values: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    if values.is_empty() {
        return if arg.is_required_set() {
            "required".to_owned()
        } else {
            String::new()
        };
    }
    let joined = values.join(
        &arg.get_value_delimiter()
            .map(String::from)
            .unwrap_or_else(|| " ".to_owned()),
    );
    if joined.is_empty() {
        "`\"\"`".to_owned()
    } else {
        format!("`{joined}`")
    }
}

/// The help text, then what a flag of several values or of a fixed set of values takes.
fn meaning(arg: &clap::Arg) -> String {
    let mut text = arg
        .get_long_help()
        .or(arg.get_help())
        .map(|h| one_line(&h.to_string()))
        .unwrap_or_default();
    let mut add = |more: String| {
        if !text.is_empty() {
            text.push_str(if text.ends_with('.') { " " } else { ". " });
        }
        text.push_str(&more);
    };
    if matches!(arg.get_action(), ArgAction::Append) {
        add(match arg.get_value_delimiter() {
            Some(delimiter) => format!("Repeatable, or several separated by `{delimiter}`."),
            None => "Repeatable.".to_owned(),
        });
    }
    let values: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| {
            let mut shown = format!("`{}`", v.get_name());
            let aliases: Vec<String> = v
                .get_name_and_aliases()
                .filter(|n| *n != v.get_name())
                .map(|n| format!("`{n}`"))
                .collect();
            if !aliases.is_empty() {
                shown.push_str(&format!(" (or {})", aliases.join(", ")));
            }
            if let Some(help) = v.get_help() {
                shown.push_str(&format!(": {}", one_line(&help.to_string())));
            }
            shown
        })
        .collect();
    // A flag (`--migrate`) has the possible values true and false: nothing to say.
    if !values.is_empty() && !matches!(arg.get_action(), ArgAction::SetTrue) {
        let explained = arg
            .get_possible_values()
            .iter()
            .any(|v| v.get_help().is_some());
        add(if explained {
            format!("One of: {}.", values.join("; "))
        } else {
            format!("One of {}.", values.join(", "))
        });
    }
    text
}

/// Help text on one line: clap keeps a doc comment's paragraphs apart with blank lines.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `|` would end a table cell and `<` open an HTML tag, except inside a code span, where
/// Markdown shows `&lt;` as written (a `\|` is still read as `|` there).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    for ch in text.chars() {
        match ch {
            '`' => {
                in_code = !in_code;
                out.push(ch);
            }
            '|' => out.push_str("\\|"),
            '<' if !in_code => out.push_str("&lt;"),
            '>' if !in_code => out.push_str("&gt;"),
            _ => out.push(ch),
        }
    }
    out
}

/// The id mdBook gives a heading: lower case, letters, digits, `_` and `-` kept,
/// whitespace made `-`, anything else dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c)
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn committed_path() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(PAGE)
    }

    /// Lines only in `old` (`-`) and only in `new` (`+`), by a longest common subsequence,
    /// with their line numbers; at most `max` of them.
    fn diff(old: &str, new: &str, max: usize) -> String {
        let a: Vec<&str> = old.lines().collect();
        let b: Vec<&str> = new.lines().collect();
        let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for i in (0..a.len()).rev() {
            for j in (0..b.len()).rev() {
                lcs[i][j] = if a[i] == b[j] {
                    lcs[i + 1][j + 1] + 1
                } else {
                    lcs[i + 1][j].max(lcs[i][j + 1])
                };
            }
        }
        let (mut i, mut j, mut out) = (0, 0, Vec::new());
        while (i < a.len() || j < b.len()) && out.len() < max {
            if i < a.len() && j < b.len() && a[i] == b[j] {
                i += 1;
                j += 1;
            } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
                out.push(format!("-{:>4} {}", i + 1, a[i]));
                i += 1;
            } else {
                out.push(format!("+{:>4} {}", j + 1, b[j]));
                j += 1;
            }
        }
        out.join("\n")
    }

    #[test]
    fn the_committed_configuration_page_is_the_command_line_rendered() {
        let rendered = render();
        let path = committed_path();
        if std::env::var_os("ATONE_BLESS").is_some_and(|v| v == "1") {
            std::fs::write(&path, &rendered).expect("write the configuration page");
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("{PAGE} cannot be read ({e}): write it with `{REGENERATE}` and commit it")
        });
        assert!(
            committed == rendered,
            "{PAGE} differs from the command line it documents (- committed, + rendered):\n\
             {}\n\nRegenerate it with `{REGENERATE}` and commit it.",
            diff(&committed, &rendered, 40)
        );
    }

    #[test]
    fn every_flag_of_every_subcommand_is_on_the_page() {
        let page = render();
        let root = Cli::command();
        let mut missing = Vec::new();
        fn walk<'a>(cmd: &'a clap::Command, path: String, out: &mut Vec<(String, &'a clap::Arg)>) {
            for arg in cmd.get_arguments() {
                out.push((path.clone(), arg));
            }
            for sub in cmd.get_subcommands() {
                walk(sub, format!("{path} {}", sub.get_name()), out);
            }
        }
        let mut args = Vec::new();
        walk(&root, "atone".to_owned(), &mut args);
        for (command, arg) in args {
            if arg.is_hide_set() {
                continue;
            }
            let Some(section) = page
                .split_once(&format!("# {command}\n"))
                .map(|(_, rest)| rest.split("\n#").next().unwrap_or(rest))
            else {
                missing.push(format!("{command}: no section"));
                continue;
            };
            let shown = match arg.get_long() {
                Some(long) => format!("`--{long}`"),
                None => arg.get_id().to_string().to_uppercase(),
            };
            // The root's own flags are those of `atone serve`, said once.
            if command == "atone" && !arg.is_global_set() {
                assert!(page.contains("takes the flags of [`atone serve`]"));
                continue;
            }
            let found = if arg.is_global_set() {
                page.contains(&format!("| {shown} |"))
            } else {
                section.contains(&format!("| {shown} |")) || section.contains(&shown)
            };
            if !found {
                missing.push(format!("{command}: {shown}"));
            }
        }
        assert!(missing.is_empty(), "not on the page: {missing:?}");
        // A hidden flag stays off it.
        assert!(!page.contains("--unknown-event-type"));
    }

    #[test]
    fn a_flag_shows_its_environment_default_and_help() {
        let page = render();
        let row = page
            .lines()
            .find(|l| l.starts_with("| `--change-feed-retention` |"))
            .expect("the row of --change-feed-retention");
        assert!(row.contains("| `ATONE_CHANGE_FEED_RETENTION` |"), "{row}");
        assert!(row.contains("| `7days` |"), "{row}");
        assert!(row.contains("gets a fresh snapshot"), "{row}");
        let migrate = page
            .lines()
            .find(|l| l.starts_with("| `--migrate` |"))
            .expect("the row of --migrate");
        assert!(migrate.contains("| off |"), "{migrate}");
        let reminders = page
            .lines()
            .find(|l| l.starts_with("| `--reminder-days` |"))
            .expect("the row of --reminder-days");
        assert!(reminders.contains("| `1,7,14` |"), "{reminders}");
    }

    /// The code spans of a Markdown table cell: `` `--a`, `--b` `` gives `--a` and `--b`.
    fn code_spans(cell: &str) -> Vec<String> {
        cell.split('`')
            .skip(1)
            .step_by(2)
            .map(|s| s.replace("\\|", "|"))
            .collect()
    }

    /// Every (subcommand path, argument) of the command line, hidden ones included.
    fn all_args(cmd: &clap::Command, path: String, out: &mut Vec<(String, clap::Arg)>) {
        for arg in cmd.get_arguments() {
            out.push((path.clone(), arg.clone()));
        }
        for sub in cmd.get_subcommands() {
            all_args(sub, format!("{path} {}", sub.get_name()), out);
        }
    }

    /// The book's other chapters keep a few flag tables of their own (the Kinesis flags in
    /// Production, the authentication flags and the limits in Security), with more to say
    /// than `--help`. Each flag they name must exist, with the environment variable and
    /// the default they show.
    #[test]
    fn the_flag_tables_of_the_other_chapters_agree_with_the_command_line() {
        let mut args = Vec::new();
        all_args(&Cli::command(), "atone".to_owned(), &mut args);
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/src");
        let mut pages: Vec<_> = std::fs::read_dir(&src)
            .expect("docs/src")
            .map(|e| e.expect("an entry of docs/src").path())
            .filter(|p| p.extension().is_some_and(|e| e == "md"))
            .filter(|p| !p.ends_with("configuration.md"))
            .collect();
        pages.sort();
        let (mut rows, mut wrong) = (0, Vec::new());
        for page in pages {
            let text = std::fs::read_to_string(&page).expect("a chapter");
            let name = page.file_name().unwrap_or_default().to_string_lossy();
            let mut in_table = false;
            for line in text.lines() {
                if line.starts_with("| flag | environment | default |") {
                    in_table = true;
                    continue;
                }
                if !line.starts_with('|') {
                    in_table = false;
                }
                if !in_table || line.starts_with("| ---") {
                    continue;
                }
                let cells: Vec<&str> = line.split(" | ").collect();
                let flags: Vec<String> = code_spans(cells[0])
                    .into_iter()
                    .filter(|f| f.starts_with("--"))
                    .collect();
                if flags.is_empty() {
                    continue;
                }
                rows += 1;
                let envs = code_spans(cells.get(1).copied().unwrap_or_default());
                let defaults = code_spans(cells.get(2).copied().unwrap_or_default());
                for (i, shown) in flags.iter().enumerate() {
                    let matching: Vec<&clap::Arg> = args
                        .iter()
                        .filter(|(_, a)| a.get_long() == shown.strip_prefix("--"))
                        .map(|(_, a)| a)
                        .collect();
                    let Some(arg) = matching.first() else {
                        wrong.push(format!("{name}: {shown} is not a flag of atone"));
                        continue;
                    };
                    let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
                    if envs.get(i) != env.as_ref() {
                        wrong.push(format!(
                            "{name}: {shown} shows the environment {:?}, atone reads {env:?}",
                            envs.get(i)
                        ));
                    }
                    let actual = default(arg);
                    let ok = match defaults.get(i) {
                        Some(value) => actual == format!("`{value}`"),
                        // No value shown ("none", "off", a description): atone has none.
                        None => !actual.starts_with('`'),
                    };
                    if !ok {
                        wrong.push(format!(
                            "{name}: {shown} shows the default {:?}, atone's is {actual}",
                            defaults.get(i)
                        ));
                    }
                }
            }
        }
        assert!(
            rows >= 30,
            "the chapters' flag tables were found: {rows} rows"
        );
        assert!(
            wrong.is_empty(),
            "flag tables that disagree with atone:\n{}",
            wrong.join("\n")
        );
    }

    #[test]
    fn escaping_keeps_tables_and_code_spans_intact() {
        assert_eq!(escape("a | b"), "a \\| b");
        assert_eq!(escape("<FILE> and `<FILE>`"), "&lt;FILE&gt; and `<FILE>`");
        assert_eq!(anchor("atone bank-debit export"), "atone-bank-debit-export");
        assert_eq!(
            anchor("Production: MySQL + Kinesis"),
            "production-mysql--kinesis"
        );
    }

    #[test]
    fn the_diff_names_what_changed() {
        let shown = diff("a\nb\nc\n", "a\nB\nc\nd\n", 10);
        assert_eq!(shown, "-   2 b\n+   2 B\n+   4 d");
    }
}
