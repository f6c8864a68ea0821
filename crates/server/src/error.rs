//! The server library's error type.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything that can stop the server from starting or serving.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot find the home directory to place the data directory in; pass --data-dir")]
    NoHomeDirectory,
    #[error("config file {path}: {reason}")]
    Config { path: PathBuf, reason: String },
    #[error("cannot {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot listen on {proto} {addr} (is another program using it?)")]
    Bind {
        proto: &'static str,
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("database {path}")]
    Database {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database {path}: migration failed")]
    Migration {
        path: PathBuf,
        #[source]
        source: rusqlite_migration::Error,
    },
    #[error("public URL {value:?}: {reason}")]
    PublicUrl { value: String, reason: &'static str },
    #[error("TLS certificate {path}: {reason}")]
    Tls { path: PathBuf, reason: String },
    #[error("the server stopped unexpectedly")]
    Serve(#[source] std::io::Error),
}
