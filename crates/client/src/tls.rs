//! `https://` servers: TLS with the server's certificate pinned by its
//! SHA-256 fingerprint (`AB:CD:…`, as the server prints it and writes it to
//! its ready file). An office server's certificate is self-signed, so no
//! authority vouches for it; the fingerprint is what the person (or the
//! app, on first use) trusts.

use std::sync::Arc;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::error::ClientError;

pub use confab_proto::tls_fingerprint as fingerprint;

/// Fingerprints compare without regard to case or separators.
fn normalise(fp: &str) -> String {
    fp.chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// What the verifier accepts: one pinned certificate, or (to learn a
/// server's fingerprint on first use) any, remembering what it saw.
#[derive(Debug)]
enum Trust {
    Pinned(String),
    FirstUse(std::sync::Mutex<Option<String>>),
}

#[derive(Debug)]
struct Pinned {
    trust: Trust,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let seen = fingerprint(end_entity);
        let pinned = match &self.trust {
            Trust::Pinned(pinned) => pinned,
            Trust::FirstUse(seen_slot) => {
                *seen_slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(seen);
                return Ok(ServerCertVerified::assertion());
            }
        };
        if normalise(&seen) == *pinned {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "the server's certificate is not the one trusted (it has fingerprint {seen})"
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn config(trust: Trust) -> Result<(rustls::ClientConfig, Arc<Pinned>), ClientError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(Pinned {
        trust,
        provider: Arc::clone(&provider),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::clone(&verifier) as Arc<dyn ServerCertVerifier>)
        .with_no_client_auth();
    Ok((config, verifier))
}

async fn handshake(
    config: rustls::ClientConfig,
    tcp: TcpStream,
    host: &str,
) -> Result<TlsStream<TcpStream>, ClientError> {
    let name = ServerName::try_from(host.to_owned())
        .map_err(|_| ClientError::Tls(format!("{host} is not a valid server name")))?;
    TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| ClientError::Tls(e.to_string()))
}

/// TLS over `tcp` to `host`, accepting only the certificate with `pinned`.
pub async fn connect_pinned(
    tcp: TcpStream,
    host: &str,
    pinned: &str,
) -> Result<TlsStream<TcpStream>, ClientError> {
    let (config, _) = config(Trust::Pinned(normalise(pinned)))?;
    handshake(config, tcp, host).await
}

/// The fingerprint of the certificate `host` presents, trusting nothing:
/// for showing the person on first use, before pinning it.
pub(crate) async fn first_use(tcp: TcpStream, host: &str) -> Result<String, ClientError> {
    let (config, verifier) = config(Trust::FirstUse(std::sync::Mutex::new(None)))?;
    handshake(config, tcp, host).await?;
    match &verifier.trust {
        Trust::FirstUse(seen) => seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| ClientError::Tls("the server showed no certificate".into())),
        Trust::Pinned(_) => unreachable!("built for first use"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_match_whatever_their_case_and_separators() {
        let fp = fingerprint(b"certificate");
        assert_eq!(fp.len(), 32 * 3 - 1);
        assert_eq!(
            normalise(&fp),
            normalise(&fp.to_lowercase().replace(':', ""))
        );
        assert_ne!(normalise(&fp), normalise(&fingerprint(b"another")));
    }
}
