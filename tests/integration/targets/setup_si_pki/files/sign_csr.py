#!/usr/bin/env python
# Copyright: wso2si.keystores contributors
# Apache License 2.0 (see LICENSE)
"""Sign a CSR as a test CA with any validity window, past or future
(``openssl x509 -req -days`` cannot backdate a certificate).

    sign_csr.py --csr REQ --ca-cert CA.pem --ca-key CA.key --out CERT.pem --start-days -400 --end-days -30

The request's extensions are copied; basicConstraints CA:FALSE and the
authority key identifier are added. Test tooling only: keys are unencrypted.
"""

from __future__ import annotations

import argparse
import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization


def main():
    parser = argparse.ArgumentParser()
    for name in ('--csr', '--ca-cert', '--ca-key', '--out'):
        parser.add_argument(name, required=True)
    parser.add_argument('--start-days', type=int, default=0)
    parser.add_argument('--end-days', type=int, default=30)
    args = parser.parse_args()

    with open(args.csr, 'rb') as f:
        csr = x509.load_pem_x509_csr(f.read())
    with open(args.ca_cert, 'rb') as f:
        ca = x509.load_pem_x509_certificate(f.read())
    with open(args.ca_key, 'rb') as f:
        ca_key = serialization.load_pem_private_key(f.read(), password=None)

    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    builder = (x509.CertificateBuilder()
               .subject_name(csr.subject).issuer_name(ca.subject)
               .public_key(csr.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now + datetime.timedelta(days=args.start_days))
               .not_valid_after(now + datetime.timedelta(days=args.end_days))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()), critical=False))
    for ext in csr.extensions:
        builder = builder.add_extension(ext.value, critical=ext.critical)
    cert = builder.sign(ca_key, hashes.SHA256())
    with open(args.out, 'wb') as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


if __name__ == '__main__':
    main()
