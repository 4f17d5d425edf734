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
         `services/atone/src/config_page/`: do not edit it by hand. After changing a flag, \
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
mod tests;
