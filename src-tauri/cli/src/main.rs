//! `shelfmark`: the command line of Shelfmark. Every command is a thin call into
//! `shelfmark_core::api`; output is human-readable, or JSON with `--json`.
//! Exit status: 0 on success (problems in the archive are not failures), 1 on error, 2 on bad usage.

mod curate;
mod dupes;
mod edit;
mod lint;
mod output;
mod resolve;
mod serve;

use clap::{Parser, Subcommand};
use shelfmark_core::api::{ApiError, Archive};
use shelfmark_core::scan::ScanOptions;
use shelfmark_core::search::query::Sort;
use shelfmark_core::search::searcher::SearchRequest;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

/// jemalloc rather than the system's allocator (not on MSVC, which it does not build for): a
/// cold index of 70,000 posts takes 4-7% less CPU and time; a search as a new process takes
/// about 2 ms more (docs/ARCHITECTURE.md, "Postings are built off the writer's thread").
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "shelfmark",
    version,
    about = "Index, search and curate archives of Markdown posts, in place."
)]
struct Cli {
    /// The archive folder (default: the current folder).
    #[arg(short = 'C', long = "archive", global = true, value_name = "DIR")]
    archive: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create or update the index of DIR (default: --archive, or `.`).
    Index {
        /// The archive folder.
        dir: Option<PathBuf>,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
        /// Files bigger than this many bytes are not indexed (a problem is recorded).
        #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024 * 1024)]
        max_bytes: u64,
        /// Follow symlinks that lead out of the archive.
        #[arg(long)]
        follow_outside_links: bool,
        /// Compact the index instead: merge every segment into one, drop the postings of edited
        /// and removed posts, give the space back (prints sizes before and after).
        #[arg(long, conflicts_with = "rebuild")]
        compact: bool,
        /// Drop the index and index every file again; the rest of .shelfmark/ (collections,
        /// journal, decisions, settings) stays. The old index serves until the new one is complete.
        #[arg(long)]
        rebuild: bool,
    },
    /// Search the archive (see docs/QUERY.md); an empty QUERY ('') lists every post.
    Search {
        /// The query (see docs/QUERY.md).
        query: String,
        /// Print `{"total","hits":[...]}` as JSON.
        #[arg(long)]
        json: bool,
        /// How many hits to print.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// How many hits to skip first.
        #[arg(long, default_value_t = 0)]
        offset: u32,
        /// relevance, date, -date, title or path.
        #[arg(long, default_value = "relevance", allow_hyphen_values = true, value_parser = parse_sort)]
        sort: Sort,
    },
    /// Show one post: its fields, text and problems. PATH is relative to the archive
    /// (or `hex:<bytes>` for a name that is not valid UTF-8). The text is the article's own;
    /// `--whole-page` prints the page around it too (navigation, related lists, share bars).
    Show {
        path: String,
        /// Print JSON (`text` is the whole page, `article` its article's byte ranges).
        #[arg(long)]
        json: bool,
        /// Print the whole page's text, not only the article's.
        #[arg(long)]
        whole_page: bool,
    },
    /// List the files Shelfmark could not read, and why.
    Problems {
        /// Print `[{"path","kind","message",...}]` as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Count tags, categories, authors, sites, years and months of a query's results.
    Facets {
        /// Count over this query's results (default: every post).
        query: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Figures about the archive and its index.
    Stats {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Set front matter fields of one post: `KEY=VALUE`, VALUE is YAML (`tags=[a, b]`, `draft=true`).
    /// Only the named keys' bytes change.
    Set {
        path: String,
        #[arg(required = true, value_name = "KEY=VALUE")]
        assignments: Vec<String>,
        #[command(flatten)]
        opts: edit::EditFlags,
    },
    /// Remove front matter fields (and only their lines) from one post.
    Unset {
        path: String,
        #[arg(required = true, value_name = "KEY")]
        keys: Vec<String>,
        #[command(flatten)]
        opts: edit::EditFlags,
    },
    /// Add, remove, rename, merge or delete tags.
    Tag {
        #[command(subcommand)]
        action: edit::TermAction,
    },
    /// Add, remove, rename, merge or delete categories.
    Category {
        #[command(subcommand)]
        action: edit::TermAction,
    },
    /// Resolve a group of duplicates: keep one post, and tag (`--tag T`, default `duplicate`),
    /// move (`--move DIR`) or delete (`--delete`) the others; `--also-from` records their source
    /// URLs in the kept post. One operation: `undo` reverts it all.
    Resolve(resolve::ResolveArgs),
    /// Undo the last edit (an edit interrupted by a crash is rolled back completely).
    Undo {
        #[arg(long)]
        json: bool,
    },
    /// Redo the edit undone last.
    Redo {
        #[arg(long)]
        json: bool,
    },
    /// List the edits in the journal (newest last); --prune removes the oldest beyond the rule.
    History {
        #[arg(long)]
        json: bool,
        /// Remove the oldest operations beyond the retention rule now.
        #[arg(long)]
        prune: bool,
        /// Keep at most N operations (saved in .shelfmark/settings.json; implies --prune).
        #[arg(long, value_name = "N")]
        keep: Option<u64>,
        /// Keep at most this many bytes of journal (saved; implies --prune).
        #[arg(long, value_name = "BYTES")]
        max_bytes: Option<u64>,
    },
    /// Settle an edit that was interrupted: --finish writes the rest, --roll-back restores all.
    Recover {
        #[arg(
            long,
            conflicts_with = "roll_back",
            required_unless_present = "roll_back"
        )]
        finish: bool,
        #[arg(long)]
        roll_back: bool,
        #[arg(long)]
        json: bool,
    },
    /// Create, fill, list and delete collections (kept in .shelfmark/collections/).
    Collection {
        #[command(subcommand)]
        action: curate::CollectionAction,
    },
    /// Export a collection or a query's posts to a folder or zip, with a manifest.
    Export(curate::ExportArgs),
    /// List groups of duplicate posts: the same text (exact), the same source URL (url), or the
    /// same article edited or re-wrapped (near); or record that posts are not duplicates.
    Duplicates(dupes::DuplicatesArgs),
    /// Data-quality findings (dates, text fields, tag variants, missing titles, empty bodies,
    /// sources that are not URLs); --fix KIND applies a kind's fix (undo with `shelfmark undo`).
    Lint(lint::LintArgs),
    /// Serve the web UI and the api to a browser, on 127.0.0.1 with a per-run token.
    /// Prints the address to open (with the token) on stdout. Indexes DIR first if needed.
    Serve {
        dir: Option<PathBuf>,
        /// The port (0: any free port).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// The address to listen on; anything but loopback needs --allow-remote and --token.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Allow a --host that other machines can reach (requires --token).
        #[arg(long)]
        allow_remote: bool,
        /// Use this token (at least 16 characters) instead of a random one.
        #[arg(long, value_name = "TOKEN")]
        token: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let msg = e.message.replace('\n', " ");
            eprintln!("shelfmark: {msg}");
            ExitCode::from(1)
        }
    }
}

fn open(archive: &Option<PathBuf>) -> Result<Archive, ApiError> {
    Archive::open(
        archive
            .as_deref()
            .unwrap_or_else(|| std::path::Path::new(".")),
    )
}

fn run(cli: Cli) -> Result<(), ApiError> {
    let cancel = AtomicBool::new(false);
    match cli.command {
        Command::Index {
            dir,
            json,
            max_bytes,
            follow_outside_links,
            compact,
            rebuild,
        } => {
            let archive = open(&dir.or(cli.archive))?;
            let mut opts = ScanOptions {
                follow_outside_links,
                ..Default::default()
            };
            opts.parse.max_bytes = max_bytes;
            let bar = output::progress_bar(if compact {
                output::COMPACTING
            } else {
                output::INDEXING
            });
            let progress = |p: shelfmark_core::scan::ScanProgress| {
                bar.set_length(p.total);
                bar.set_position(p.done);
            };
            if compact || rebuild {
                let done = if compact {
                    archive.compact_index(&progress, &cancel)?
                } else {
                    archive.rebuild_index(&opts, &progress, &cancel)?
                };
                bar.finish_and_clear();
                output::maintenance(&done, json);
            } else {
                let summary = archive.index(&opts, &progress, &cancel)?;
                bar.finish_and_clear();
                output::index_summary(&summary, json);
            }
        }
        Command::Search {
            query,
            json,
            limit,
            offset,
            sort,
        } => {
            let archive = open(&cli.archive)?;
            let req = SearchRequest {
                query,
                sort: Some(sort),
                limit: Some(limit),
                offset: Some(offset),
                facets: false,
            };
            output::search(&archive.search(&req)?, json);
        }
        Command::Show {
            path,
            json,
            whole_page,
        } => output::show(&open(&cli.archive)?.show(&path)?, json, whole_page),
        Command::Problems { json } => output::problems(&open(&cli.archive)?.problems()?, json),
        Command::Facets { query, json } => output::facets(
            &open(&cli.archive)?.facets(query.as_deref().unwrap_or(""))?,
            json,
        ),
        Command::Stats { json } => output::stats(&open(&cli.archive)?.stats()?, json),
        Command::Set {
            path,
            assignments,
            opts,
        } => {
            let ops = edit::assignments(&assignments)?;
            edit::run(
                &open(&cli.archive)?,
                edit::paths_target(vec![path]),
                ops,
                &opts,
            )?;
        }
        Command::Unset { path, keys, opts } => {
            let ops = keys
                .into_iter()
                .map(|key| shelfmark_core::edit::EditOp::Unset { key })
                .collect();
            edit::run(
                &open(&cli.archive)?,
                edit::paths_target(vec![path]),
                ops,
                &opts,
            )?;
        }
        Command::Tag { action } => edit::term(&open(&cli.archive)?, "tags", "tag", action)?,
        Command::Category { action } => {
            edit::term(&open(&cli.archive)?, "categories", "category", action)?
        }
        Command::Resolve(args) => resolve::resolve(&open(&cli.archive)?, args)?,
        Command::Undo { json } => edit::outcome(&open(&cli.archive)?.undo()?, "undid", json)?,
        Command::Redo { json } => edit::outcome(&open(&cli.archive)?.redo()?, "redid", json)?,
        Command::History {
            json,
            prune,
            keep,
            max_bytes,
        } if prune || keep.is_some() || max_bytes.is_some() => {
            edit::pruned(&open(&cli.archive)?.prune_history(keep, max_bytes)?, json)
        }
        Command::History { json, .. } => edit::history(&open(&cli.archive)?.history()?, json),
        Command::Recover {
            finish,
            roll_back: _,
            json,
        } => {
            let how = if finish {
                shelfmark_core::edit::Recovery::Finish
            } else {
                shelfmark_core::edit::Recovery::RollBack
            };
            edit::outcome(&open(&cli.archive)?.recover(how)?, "recovered", json)?
        }
        Command::Collection { action } => curate::collection(&open(&cli.archive)?, action)?,
        Command::Export(args) => curate::export(&open(&cli.archive)?, args)?,
        Command::Duplicates(args) => dupes::run(&open(&cli.archive)?, args)?,
        Command::Lint(args) => lint::run(&open(&cli.archive)?, args)?,
        Command::Serve {
            dir,
            port,
            host,
            allow_remote,
            token,
        } => serve::run(
            open(&dir.or(cli.archive))?,
            serve::Options {
                host,
                port,
                allow_remote,
                token,
            },
        )?,
    }
    Ok(())
}

/// `--sort`: one of the names of `Sort` on the wire.
fn parse_sort(s: &str) -> Result<Sort, String> {
    s.parse::<Sort>().map_err(|e| e.to_string())
}
