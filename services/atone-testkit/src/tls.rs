//! Certificates for TLS tests, made on the spot: a CA, a server certificate for
//! `localhost` and `127.0.0.1`, a client certificate the CA signed, and one it did not.

use std::path::{Path, PathBuf};

use atone::server::TlsSettings;
use atone_api::tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair,
};

/// PEM files in a temporary directory, alive as long as this is.
pub struct TestPki {
    dir: tempfile::TempDir,
}

/// Which certificate a client presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientCert {
    None,
    /// Signed by the test CA.
    Trusted,
    /// Self-signed: a CA the server does not know.
    Stranger,
}

impl TestPki {
    pub fn create() -> Self {
        atone::server::install_crypto_provider();
        let dir = tempfile::tempdir().expect("temporary directory");
        let ca = ca("atone test CA");
        write(dir.path(), "ca.pem", &ca.pem());
        for (name, usage, sans) in [
            (
                "server",
                ExtendedKeyUsagePurpose::ServerAuth,
                vec!["localhost".to_owned(), "127.0.0.1".to_owned()],
            ),
            (
                "client",
                ExtendedKeyUsagePurpose::ClientAuth,
                vec!["atone-client".to_owned()],
            ),
        ] {
            let key = KeyPair::generate().expect("key");
            let mut params = CertificateParams::new(sans).expect("params");
            params.distinguished_name.push(DnType::CommonName, name);
            params.extended_key_usages = vec![usage];
            let cert = params.signed_by(&key, &ca).expect("sign");
            write(dir.path(), &format!("{name}.pem"), &cert.pem());
            write(dir.path(), &format!("{name}-key.pem"), &key.serialize_pem());
        }
        let stranger_key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(vec!["atone-client".to_owned()]).expect("params");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let stranger = params.self_signed(&stranger_key).expect("self-sign");
        write(dir.path(), "stranger.pem", &stranger.pem());
        write(
            dir.path(),
            "stranger-key.pem",
            &stranger_key.serialize_pem(),
        );
        Self { dir }
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// atone's TLS: with `mutual`, clients must present a certificate the test CA signed.
    pub fn server(&self, mutual: bool) -> TlsSettings {
        TlsSettings {
            cert: self.path("server.pem"),
            key: self.path("server-key.pem"),
            client_ca: mutual.then(|| self.path("ca.pem")),
        }
    }

    /// The same as `atone` flags.
    pub fn server_args(&self, mutual: bool) -> Vec<String> {
        let mut args = vec![
            "--tls-cert".to_owned(),
            self.path("server.pem").display().to_string(),
            "--tls-key".to_owned(),
            self.path("server-key.pem").display().to_string(),
        ];
        if mutual {
            args.push("--tls-client-ca".to_owned());
            args.push(self.path("ca.pem").display().to_string());
        }
        args
    }

    /// Client flags of `atone healthcheck` and `atone close` for `cert`.
    pub fn client_args(&self, cert: ClientCert) -> Vec<String> {
        let mut args = vec![
            "--ca-cert".to_owned(),
            self.path("ca.pem").display().to_string(),
        ];
        if let Some(name) = cert.name() {
            args.push("--client-cert".to_owned());
            args.push(self.path(&format!("{name}.pem")).display().to_string());
            args.push("--client-key".to_owned());
            args.push(self.path(&format!("{name}-key.pem")).display().to_string());
        }
        args
    }

    /// A TLS channel to `port` that trusts the test CA and presents `cert`; Err when the
    /// handshake fails.
    pub async fn channel(
        &self,
        port: u16,
        cert: ClientCert,
    ) -> Result<Channel, atone_api::tonic::transport::Error> {
        let read = |file: &str| std::fs::read(self.path(file)).expect("read a PEM file");
        let mut tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(read("ca.pem")))
            .domain_name("localhost");
        if let Some(name) = cert.name() {
            tls = tls.identity(Identity::from_pem(
                read(&format!("{name}.pem")),
                read(&format!("{name}-key.pem")),
            ));
        }
        Endpoint::from_shared(format!("https://127.0.0.1:{port}"))
            .expect("endpoint")
            .tls_config(tls)?
            .connect()
            .await
    }
}

impl ClientCert {
    fn name(self) -> Option<&'static str> {
        match self {
            ClientCert::None => None,
            ClientCert::Trusted => Some("client"),
            ClientCert::Stranger => Some("stranger"),
        }
    }
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA")
}

fn write(dir: &Path, name: &str, pem: &str) {
    std::fs::write(dir.join(name), pem).expect("write a PEM file");
}
