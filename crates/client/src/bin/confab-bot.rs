//! `confab-bot`: joins a meeting N times with fake devices (a test pattern
//! with its frame counter stamped in, and a chirp per bot), receives
//! everyone, and prints one JSON summary line per bot at the end.
//!
//! Exit codes: 0 when every bot joined, 2 when one could not join (the
//! server's sentence is on stderr), 1 for other failures.

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use confab_client::bot::{self, Recorder};
use confab_client::{ClientError, JoinOptions, Meeting, MeetingEvent};
use tokio::sync::watch;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Joins a Confab meeting with fake participants and reports what they received"
)]
struct Args {
    /// The host's base URL, like http://127.0.0.1:8443
    #[arg(long)]
    server: String,
    /// Meeting code
    #[arg(long)]
    meeting: String,
    /// How many bots join
    #[arg(long, default_value_t = 1)]
    count: usize,
    /// Seconds to stay in the meeting
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    #[arg(long)]
    passcode: Option<String>,
    /// For an https:// server: the SHA-256 fingerprint of its certificate
    /// (AB:CD:…), as it prints it and writes it to its ready file
    #[arg(long)]
    tls_fingerprint: Option<String>,
    /// Name, or name prefix ("bot-0", "bot-1", ...) with --count above 1
    #[arg(long, default_value = "bot")]
    name: String,
    /// Camera picture size, WxH
    #[arg(long, default_value = "640x360", value_parser = parse_size)]
    size: (u32, u32),
    /// Camera frames per second
    #[arg(long, default_value_t = 15)]
    fps: u32,
    /// Tile size each remote participant is shown at, WxH
    #[arg(long, default_value = "320x180", value_parser = parse_size)]
    view: (u32, u32),
    /// Receive slots per kind in the offer
    #[arg(long, default_value_t = confab_client::DEFAULT_RECEIVE_SLOTS)]
    slots: usize,
    #[arg(long)]
    no_video: bool,
    #[arg(long)]
    no_audio: bool,
    /// Sends this chat message once joined (each bot, with --count above 1);
    /// the summary lists the chat each bot received under "chat"
    #[arg(long)]
    say: Option<String>,
}

fn parse_size(s: &str) -> anyhow::Result<(u32, u32)> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .with_context(|| format!("{s:?} is not WxH, like 640x360"))?;
    let w: u32 = w.parse().with_context(|| format!("{w:?} is not a width"))?;
    let h: u32 = h
        .parse()
        .with_context(|| format!("{h:?} is not a height"))?;
    if w == 0 || h == 0 || w % 2 == 1 || h % 2 == 1 {
        bail!("{s} must be even and non-zero in both directions");
    }
    Ok((w, h))
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("confab-bot: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(run(args))
}

async fn run(args: Args) -> ExitCode {
    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        let _ = stop_tx.send(true);
    });
    let args = std::sync::Arc::new(args);
    let mut tasks = Vec::new();
    for i in 0..args.count {
        let (args, stop) = (std::sync::Arc::clone(&args), stop.clone());
        tasks.push(tokio::spawn(async move { run_bot(i, &args, stop).await }));
    }
    let mut code = ExitCode::SUCCESS;
    for task in tasks {
        match task.await {
            Ok(Ok(line)) => println!("{line}"),
            Ok(Err(e)) => {
                eprintln!("{e:#}");
                let refused = e
                    .downcast_ref::<ClientError>()
                    .is_some_and(|c| matches!(c, ClientError::Server { .. }));
                code = ExitCode::from(if refused { 2 } else { 1 });
            }
            Err(e) => {
                eprintln!("confab-bot: a bot crashed: {e}");
                code = ExitCode::from(1);
            }
        }
    }
    code
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

async fn run_bot(i: usize, args: &Args, mut stop: watch::Receiver<bool>) -> anyhow::Result<String> {
    let name = if args.count == 1 {
        args.name.clone()
    } else {
        format!("{}-{i}", args.name)
    };
    let recorder = Recorder::default();
    let mut options = JoinOptions::new(&args.server, &args.meeting, &name);
    options.passcode = args.passcode.clone();
    options.tls_fingerprint = args.tls_fingerprint.clone();
    options.receive_slots = args.slots;
    let joined_at = Instant::now();
    let media = bot::fake_media(
        &name,
        (!args.no_video).then_some((args.size.0, args.size.1, args.fps)),
        !args.no_audio,
        &recorder,
    )?;
    let (meeting, mut events) = Meeting::join(options, media)
        .await
        .map_err(anyhow::Error::new)
        .with_context(|| format!("{name} could not join"))?;
    if let Some(text) = &args.say {
        meeting.chat(text.as_str())?;
    }
    let mut names: HashMap<u64, String> = HashMap::new();
    let mut chat = Vec::new();
    let deadline = tokio::time::sleep(Duration::from_secs_f64(args.duration.max(0.0)));
    tokio::pin!(deadline);
    let (vw, vh) = args.view;
    loop {
        let event = tokio::select! {
            () = &mut deadline => break,
            _ = stop.changed() => break,
            event = events.recv() => event,
        };
        let mut show = Vec::new();
        match event {
            None => break,
            Some(MeetingEvent::Joined {
                you, participants, ..
            }) => {
                show.extend(participants.into_iter().filter(|p| p.id != you.id));
            }
            Some(MeetingEvent::ParticipantJoined(p)) => show.push(p),
            Some(MeetingEvent::Chat(message)) => {
                chat.push(serde_json::json!({ "from": message.name, "text": message.text }));
            }
            Some(MeetingEvent::MeetingEnded { .. } | MeetingEvent::Removed { .. }) => break,
            Some(MeetingEvent::Connection(confab_client::ConnectionState::Failed(why))) => {
                bail!("{name} lost the meeting: {why}")
            }
            Some(_) => {}
        }
        for p in show {
            names.insert(p.id, p.name);
            let _ = meeting.set_view(p.id, vw, vh);
        }
    }
    let mut line = bot::summary(
        &name,
        meeting.id(),
        joined_at,
        &names,
        &recorder,
        &meeting.stats(),
        meeting.send_stats(),
    );
    line["chat"] = serde_json::Value::Array(chat);
    meeting.leave().await?;
    Ok(line.to_string())
}
