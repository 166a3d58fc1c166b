import sys; sys.path.insert(0,'/tmp/attack28')
from h import *
c = C(MX); c.reply(); c.cmd('EHLO a.test')
cases = ['<bob@local.test>', '<bob@LOCAL.TEST>', '<bob@local.test.>', '<bob%other.test@local.test>', '<"bob@other.test"@local.test>', '<bob@other.test@local.test>',
 '<@local.test:bob@other.test>', '<@other.test:bob@local.test>', '<@local.test,@x.test:bob@other.test>', '<bob!other.test@local.test>', '<other.test!bob@local.test>',
 '<bob@[127.0.0.1]>', '<bob@[IPv6:::1]>', '<postmaster>', '<Postmaster>', '<postmaster@other.test>', '<bob@local．test>', '<bob@xn--local-test>', '<bob@local.test >', ' <bob@local.test>', '<bob @local.test>',
 '<"bob"@local.test>', '<"b\\"ob"@local.test>', '<"bob\\@x"@local.test>', '<bob\x00@local.test>', '<bob@local.test\x00.other.test>', '<bob@local.test>\x00', '<bob@local.test> NOTIFY=NEVER', '<bob@local.test> ORCPT=rfc822;x@other.test',
 '<bob@LOCAL.test>', '<bob@local.tesT>', '<bob@relay.test>', '<bob@RELAY.TEST>', '<bob@ⅼocal.test>', '<bob@locaL.test> ', '<bob@local.test>>', '<<bob@local.test>>', '<bob@local.test><x@other.test>', '<b\rob@local.test>',
 '<bob@local.test\r\nRCPT TO:<x@other.test>>', '<' + 'a'*64 + '@local.test>', '<' + 'a'*65 + '@local.test>', '<bob@' + ('a'*63 + '.')*3 + 'local.test>', '<bob@straße.test>', '<bob@xn--strae-oqa.test>', '<bob@LOCAL．TEST>', '<bob@local。test>']
for a in cases:
    c = C(MX); c.reply(); c.cmd('EHLO a.test'); m = c.cmd('MAIL FROM:<x@sender.test> SMTPUTF8')
    r = c.cmd(('RCPT TO:' + a).encode('utf8')); r2 = c.cmd('NOOP'); c.close()
    print(repr(a)[:60], r, r2 if r2 != ['250 2.0.0 Ok'] else '')
c.close()
