"""aiosmtpd handlers for the mail tests: the stock Maildir handler, refusing some recipients.

    /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c refusing.Refusing MAILDIR

(with this directory on PYTHONPATH). A recipient whose address begins with ``unknown`` is
refused for good (550, a permanent failure); one that begins with ``greylisted`` is refused
for now (451, a temporary failure). Every other recipient is accepted and its message stored
in the Maildir, as ``aiosmtpd.handlers.Mailbox`` does.
"""

from aiosmtpd.handlers import Mailbox


class Refusing(Mailbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.lower()
        if local.startswith("unknown"):
            return "550 5.1.1 <%s>: Recipient address rejected: no such mailbox" % address
        if local.startswith("greylisted"):
            return "451 4.7.1 <%s>: Recipient address rejected: greylisted, try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"
