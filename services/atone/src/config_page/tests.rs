//! The committed page against a fresh render, and the hand-written flag tables of the
//! other chapters against the command line.

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
