# binSh: /bin/sh, a link to strata's `binShell` (nixpkgs' bashInteractive), as dockerTools'.
plumbing:
plumbing.writeTree "bin-sh" { "bin/sh".link = plumbing.storeProgram "binShell" "binSh" "sh" plumbing.binShell; }
