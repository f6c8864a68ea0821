//! `confab-license`: the vendor's tool to make signing keys, issue licence
//! files and inspect them. Everything it decides is in the library; this file
//! only reads and writes files and prints.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use confab_license::{Payload, SecretKey, Timestamp, TrustedKey};
use jiff::tz::TimeZone;

/// Makes licence signing keys, issues Confab licence files and inspects them.
#[derive(Debug, Parser)]
#[command(version, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Creates a new signing key and prints its public key for the key table
    Keygen {
        /// Where to write the secret key (mode 0600; an existing file is never overwritten)
        #[arg(long, value_name = "SECRET_FILE")]
        out: PathBuf,
    },
    /// Signs a new licence file
    Issue(IssueArgs),
    /// Shows a licence file's contents and whether this build accepts it
    Inspect {
        /// The licence file
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
struct IssueArgs {
    /// Secret key file made by `keygen`
    #[arg(long, value_name = "SECRET_FILE")]
    key: PathBuf,
    /// The key's id in the key table, e.g. confab-vendor-2026
    #[arg(long, value_name = "ID")]
    key_id: String,
    /// Who the licence is for
    #[arg(long, value_name = "NAME")]
    licensee: String,
    /// Concurrent lines the licence grants (at least 1)
    #[arg(long, value_name = "N")]
    seats: u32,
    /// When the licence stops working: YYYY-MM-DD (midnight UTC at the start of that day) or an RFC 3339 time [default: never]
    #[arg(long, value_name = "DATE", value_parser = parse_when)]
    expires: Option<Timestamp>,
    /// When the licence starts working, in the same form [default: at once]
    #[arg(long, value_name = "DATE", value_parser = parse_when)]
    not_before: Option<Timestamp>,
    /// Licence id [default: a random one such as CL-3F2A-9C1B-07DE-44A0]
    #[arg(long, value_name = "LICENCE_ID")]
    id: Option<String>,
    /// Where to write the licence file
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            // `{:#}` prints the whole chain: "cannot read key.secret: No such file".
            eprintln!("confab-license: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Keygen { out } => keygen(&out)?,
        Command::Issue(args) => issue(args)?,
        Command::Inspect { file } => return inspect(&file),
    }
    Ok(ExitCode::SUCCESS)
}

/// A calendar date means midnight UTC at its start; anything else must be a
/// full RFC 3339 time. Only an exact `YYYY-MM-DD` is read as a date, so a
/// time with a typo is refused rather than silently cut to its day.
fn parse_when(text: &str) -> Result<Timestamp, jiff::Error> {
    if text.len() == "YYYY-MM-DD".len() {
        let date: jiff::civil::Date = text.parse()?;
        TimeZone::UTC.to_timestamp(date.at(0, 0, 0, 0))
    } else {
        text.parse()
    }
}

fn keygen(out: &Path) -> anyhow::Result<()> {
    let key = SecretKey::generate();
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(out)
        .with_context(|| format!("cannot create {}", out.display()))?;
    file.write_all(key.to_file_text().as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", out.display()))?;

    let year = TimeZone::UTC.to_datetime(Timestamp::now()).year();
    let id = format!("confab-vendor-{year}");
    println!("Wrote a new secret key to {} (mode 0600).", out.display());
    println!("Keep it offline: anyone who has it can issue licences.");
    println!();
    println!("Suggested key id: {id} (it must differ from every id already in the table).");
    println!("Public key, to paste into crates/license/src/keys.rs and list in the key table:");
    println!();
    print!("{}", table_entry(&id, &key.public_key()));
    Ok(())
}

/// The Rust constant for the key table, formatted as rustfmt would.
fn table_entry(id: &str, public_key: &[u8; 32]) -> String {
    let name = id.to_uppercase().replace('-', "_");
    let mut text = format!(
        "pub const {name}: TrustedKey = TrustedKey {{\n    id: \"{id}\",\n    public_key: ["
    );
    for row in public_key.chunks(8) {
        let bytes: Vec<String> = row.iter().map(|b| format!("0x{b:02x},")).collect();
        text.push_str(&format!("\n        {}", bytes.join(" ")));
    }
    text.push_str("\n    ],\n};\n");
    text
}

fn issue(args: IssueArgs) -> anyhow::Result<()> {
    let key_text = std::fs::read_to_string(&args.key)
        .with_context(|| format!("cannot read the secret key {}", args.key.display()))?;
    let key = SecretKey::from_file_text(&key_text)
        .with_context(|| format!("cannot use {}", args.key.display()))?;
    check_key_matches_table(&key, &args.key_id, confab_license::trusted_keys())?;

    let payload = Payload {
        licence_id: args.id.unwrap_or_else(confab_license::new_licence_id),
        licensee: args.licensee,
        seats: args.seats,
        // Whole seconds: the file is read by people, and sub-second issue
        // times say nothing useful.
        issued_at: Timestamp::from_second(Timestamp::now().as_second())?,
        not_before: args.not_before,
        expires_at: args.expires,
    };
    let file = confab_license::sign(&key, &args.key_id, &payload)?;
    std::fs::write(&args.out, file)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let ends = payload
        .expires_at
        .map_or("no expiry date".to_owned(), |t| format!("expires {t}"));
    println!(
        "Wrote licence {} for {} ({} lines, {ends}), signed by key {}, to {}.",
        payload.licence_id,
        payload.licensee,
        payload.seats,
        args.key_id,
        args.out.display()
    );
    Ok(())
}

/// A licence signed with the wrong secret for its key id would be refused by
/// every server, so the tool refuses to write it.
fn check_key_matches_table(
    key: &SecretKey,
    key_id: &str,
    table: &[TrustedKey],
) -> anyhow::Result<()> {
    match table.iter().find(|k| k.id == key_id) {
        Some(known) if known.public_key != key.public_key() => bail!(
            "the secret key is not the key this build knows as {key_id:?}; \
             check --key and --key-id"
        ),
        Some(_) => Ok(()),
        None => {
            eprintln!(
                "confab-license: warning: this build does not trust key {key_id:?}; \
                 servers refuse the licence until a build lists its public key"
            );
            Ok(())
        }
    }
}

fn inspect(path: &Path) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let shown = confab_license::read_unverified(&bytes)
        .with_context(|| format!("cannot read the licence {}", path.display()))?;
    let p = &shown.payload;
    let optional = |t: Option<Timestamp>| t.map_or("-".to_owned(), |t| t.to_string());
    println!("Licence file  {}", path.display());
    println!("  format      {}", shown.format);
    println!("  key id      {}", shown.key_id);
    println!("  licence id  {}", p.licence_id);
    println!("  licensee    {}", p.licensee);
    println!("  seats       {}", p.seats);
    println!("  issued at   {}", p.issued_at);
    println!("  not before  {}", optional(p.not_before));
    println!("  expires at  {}", optional(p.expires_at));
    match confab_license::verify(&bytes, Timestamp::now()) {
        Ok(licence) => {
            println!("Accepted by this build: yes, {} lines now.", licence.seats);
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            println!("Accepted by this build: no, {err}.");
            Ok(ExitCode::FAILURE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_mean_midnight_utc_and_times_are_kept() {
        assert_eq!(
            parse_when("2027-01-31").unwrap(),
            "2027-01-31T00:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(
            parse_when("2027-01-31T10:00:00+02:00").unwrap(),
            "2027-01-31T08:00:00Z".parse::<Timestamp>().unwrap()
        );
        for bad in ["2027-13-01", "31/01/2027", "2027-01-31T10:00"] {
            assert!(parse_when(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn table_entry_is_a_rust_constant_for_the_key() {
        let entry = table_entry("confab-vendor-2031", &[0xab; 32]);
        assert!(entry.starts_with("pub const CONFAB_VENDOR_2031: TrustedKey"));
        assert!(entry.contains("id: \"confab-vendor-2031\""));
        assert_eq!(entry.matches("0xab,").count(), 32);
    }

    #[test]
    fn key_id_of_a_known_key_must_match_its_secret() {
        let key = SecretKey::generate();
        let table = [TrustedKey {
            id: "known",
            public_key: [9; 32],
        }];
        assert!(check_key_matches_table(&key, "known", &table).is_err());
        assert!(check_key_matches_table(&key, "unlisted", &table).is_ok());
        let mine = [TrustedKey {
            id: "known",
            public_key: key.public_key(),
        }];
        assert!(check_key_matches_table(&key, "known", &mine).is_ok());
    }
}
