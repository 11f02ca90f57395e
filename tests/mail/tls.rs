//! SMTP over TLS against a real server (aiosmtpd with the certificate of `tests/common/tls/`):
//! TLS from the start (`smtps://`) and STARTTLS (`smtp://…?tls=required`), the server's
//! certificate trusted through `smtp_ca_file`; without that root, or for another host name,
//! nothing is sent.

use stembus::config::{Config, MailTransportKind};
use stembus::mail::transport::{MailTransport, Sender, SmtpMailTransport, from_config};

use crate::smtp::{SmtpServer, TlsMode, test_ca_pem, tls_dir};

fn message(to: &str, id: &str) -> lettre::Message {
    let at = "2026-03-05T09:00:00Z".parse().unwrap_or_else(|e| panic!("{e}"));
    Sender::new("Stembus <stembus@coop.example>", "https://stembus.coop.example")
        .unwrap_or_else(|e| panic!("{e}"))
        .plain(to, "Code", "Uw code: 123456", id, at)
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn mail_goes_over_tls_and_starttls_to_a_server_whose_certificate_chains_to_the_configured_root() {
    for mode in [TlsMode::Smtps, TlsMode::StartTls] {
        let server = SmtpServer::start_tls(mode);
        // Through the configuration, as the service reads it.
        let config = Config {
            mail_transport: MailTransportKind::Smtp,
            smtp_url: Some(server.url()),
            smtp_ca_file: Some(tls_dir().join("ca.pem")),
            ..Config::default()
        };
        let transport = from_config(&config).unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        let id = format!("<tls-{mode:?}@stembus.coop.example>");
        assert_eq!(transport.send(&message("lid@coop.example", &id)), Ok(id.clone()), "{mode:?}");
        let delivered = server.wait_for(1);
        assert_eq!(delivered.len(), 1, "{mode:?}");
        assert_eq!(delivered[0].rcpt_to, vec!["lid@coop.example".to_owned()], "{mode:?}");
        let raw = String::from_utf8_lossy(&delivered[0].raw);
        assert!(raw.contains(&id), "{mode:?}: the message that arrived is the one sent");
    }
}

#[test]
fn without_the_root_or_for_another_host_name_the_certificate_is_refused_and_nothing_is_sent() {
    for mode in [TlsMode::Smtps, TlsMode::StartTls] {
        // The Mozilla roots alone do not know the test authority.
        let server = SmtpServer::start_tls(mode);
        let untrusting =
            SmtpMailTransport::from_url(&server.url(), "stembus.example").unwrap_or_else(|e| panic!("{e}"));
        let err = untrusting
            .send(&message("lid@coop.example", "<a@stembus.coop.example>"))
            .err()
            .unwrap_or_else(|| panic!("{mode:?}: sent to a server whose certificate nobody vouches for"));
        assert!(!err.permanent, "{mode:?}: tried again later, once the setting is put right: {err:?}");
        assert!(err.reason.contains("UnknownIssuer"), "{mode:?}: refused for its issuer: {err:?}");
        // A certificate of the trusted authority, for another name than the URL's host.
        let elsewhere = SmtpServer::start_tls_with(mode, "other-name");
        let trusting =
            SmtpMailTransport::from_url_trusting(&elsewhere.url(), "stembus.example", Some(&test_ca_pem()))
                .unwrap_or_else(|e| panic!("{e}"));
        let err = trusting
            .send(&message("lid@coop.example", "<b@stembus.coop.example>"))
            .err()
            .unwrap_or_else(|| panic!("{mode:?}: sent to a server whose certificate names another host"));
        assert!(!err.permanent, "{err:?}");
        assert!(err.reason.contains("not valid for name"), "{mode:?}: refused for its name: {err:?}");
        // And with the right root and name, the same transport settings send (the refusals
        // above were the certificates').
        let trusting =
            SmtpMailTransport::from_url_trusting(&server.url(), "stembus.example", Some(&test_ca_pem()))
                .unwrap_or_else(|e| panic!("{e}"));
        assert!(trusting.send(&message("lid@coop.example", "<c@stembus.coop.example>")).is_ok(), "{mode:?}");
        let delivered = server.wait_for(1);
        assert_eq!(delivered.len(), 1, "{mode:?}: only the message sent with the right root arrived");
        assert!(elsewhere.messages().is_empty(), "{mode:?}");
    }
}

#[test]
fn a_root_file_that_holds_no_certificate_is_a_configuration_error() {
    for pem in [&b"not a certificate"[..], b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"]
    {
        let err =
            SmtpMailTransport::from_url_trusting("smtps://mail.coop.example", "stembus.example", Some(pem))
                .err()
                .unwrap_or_else(|| panic!("accepted {pem:?}"));
        assert!(err.0.contains("root certificates"), "{err}");
    }
    // A file that cannot be read stops the start, naming the setting.
    let config = Config {
        mail_transport: MailTransportKind::Smtp,
        smtp_url: Some("smtps://mail.coop.example".into()),
        smtp_ca_file: Some(tls_dir().join("no-such-file.pem")),
        ..Config::default()
    };
    let err = from_config(&config).err().unwrap_or_else(|| panic!("a missing root file was accepted"));
    assert!(err.0.contains("smtp_ca_file") && err.0.contains("no-such-file.pem"), "{err}");
}
