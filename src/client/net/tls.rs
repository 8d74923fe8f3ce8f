//! TLS for wss://: the web PKI roots, plus the certificates of a private CA when the
//! operator's gateway uses one (`--ca-file`).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;

/// A client configuration that trusts the web PKI and every certificate in `ca_file` (PEM).
pub fn client_config_with_ca(ca_file: &Path) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let mut added = 0;
    for cert in CertificateDer::pem_file_iter(ca_file).with_context(|| format!("reading {}", ca_file.display()))? {
        let cert = cert.with_context(|| format!("a certificate in {} is not valid PEM", ca_file.display()))?;
        roots.add(cert).with_context(|| format!("a certificate in {} cannot be used as a root", ca_file.display()))?;
        added += 1;
    }
    anyhow::ensure!(added > 0, "{} holds no PEM certificate", ca_file.display());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
