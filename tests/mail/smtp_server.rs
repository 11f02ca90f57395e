//! The test SMTP server itself (tests/common/smtp.rs): aiosmtpd stores what it accepts, goes
//! down and comes back on its port, and the refusing handler refuses as the tests need.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

use crate::mailapp::handlers_dir;
use crate::smtp::SmtpServer;

/// A plain SMTP conversation: the reply code of the first command that fails, or 250.
fn send(port: u16, from: &str, to: &str, message: &str) -> u16 {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|e| panic!("{e}"));
    let mut reader = BufReader::new(stream.try_clone().unwrap_or_else(|e| panic!("{e}")));
    let mut writer = stream;
    let mut reply = || -> u16 {
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap_or_else(|e| panic!("{e}"));
            if line.as_bytes().get(3) != Some(&b'-') {
                return line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
            }
        }
    };
    assert_eq!(reply(), 220);
    let mut say = |line: &str, reply: &mut dyn FnMut() -> u16| {
        writer.write_all(format!("{line}\r\n").as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        reply()
    };
    assert_eq!(say("EHLO test.example", &mut reply), 250);
    assert_eq!(say(&format!("MAIL FROM:<{from}>"), &mut reply), 250);
    let rcpt = say(&format!("RCPT TO:<{to}>"), &mut reply);
    if rcpt != 250 {
        return rcpt;
    }
    assert_eq!(say("DATA", &mut reply), 354);
    let data = format!("{}\r\n.", message.replace('\n', "\r\n"));
    let code = say(&data, &mut reply);
    say("QUIT", &mut reply);
    code
}

fn message(to: &str, subject: &str) -> String {
    format!("From: test@example.org\nTo: {to}\nSubject: {subject}\n\nHello.")
}

#[test]
fn the_smtp_server_stores_what_it_accepts_and_comes_back_on_its_port() {
    let mut server = SmtpServer::start();
    assert_eq!(
        send(server.port, "test@example.org", "a@coop.example", &message("a@coop.example", "one")),
        250
    );
    let one = server.wait_for(1);
    assert_eq!(one[0].rcpt_to, vec!["a@coop.example"]);
    assert_eq!(one[0].mail_from, "test@example.org");
    assert_eq!(one[0].subject(), "one");
    assert_eq!(one[0].to(), vec!["a@coop.example"]);
    assert_eq!(one[0].text(), "Hello.\r\n", "line ends as on the wire");

    let port = server.port;
    server.stop();
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "nothing answers while it is down");
    server.resume();
    assert_eq!(server.port, port);
    assert_eq!(send(port, "test@example.org", "b@coop.example", &message("b@coop.example", "two")), 250);
    let both: Vec<String> = server.wait_for(2).iter().map(|m| m.subject()).collect();
    assert_eq!(both, vec!["one", "two"], "what it stored before going down is kept");
}

#[test]
fn the_refusing_handler_refuses_unknown_recipients_for_good_and_greylisted_ones_for_now() {
    let server = SmtpServer::start_with("refusing.Refusing", Some(&handlers_dir()));
    let from = "test@example.org";
    assert_eq!(send(server.port, from, "unknown@coop.example", &message("unknown@coop.example", "x")), 550);
    assert_eq!(
        send(server.port, from, "greylisted@coop.example", &message("greylisted@coop.example", "x")),
        451
    );
    assert_eq!(send(server.port, from, "known@coop.example", &message("known@coop.example", "y")), 250);
    let delivered = server.wait_for(1);
    assert_eq!(delivered.len(), 1);
    assert!(delivered[0].is_for("known@coop.example"));
}
