# caCertificates: the CA bundle (strata's `caBundle`, nixpkgs' cacert) where distributions
# look for it, as dockerTools' links it: /etc/ssl/certs/ca-bundle.crt (NixOS),
# /etc/ssl/certs/ca-certificates.crt (Debian, Ubuntu, Arch, Gentoo) and
# /etc/pki/tls/certs/ca-bundle.crt (CentOS, Fedora).
plumbing:
let
  bundle = plumbing.storeFile "caBundle" "caCertificates" plumbing.caBundle;
in
plumbing.writeTree "ca-certificates" {
  "etc/ssl/certs/ca-bundle.crt".link = bundle;
  "etc/ssl/certs/ca-certificates.crt".link = bundle;
  "etc/pki/tls/certs/ca-bundle.crt".link = bundle;
}
