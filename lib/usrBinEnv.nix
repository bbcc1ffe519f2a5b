# usrBinEnv: /usr/bin/env, for "#!/usr/bin/env" scripts, a link to strata's `envBinary`
# (nixpkgs' coreutils' env), as dockerTools'.
plumbing:
plumbing.writeTree "usr-bin-env" { "usr/bin/env".link = plumbing.storeProgram "envBinary" "usrBinEnv" "env" plumbing.envBinary; }
