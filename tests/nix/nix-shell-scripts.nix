# The scripts of nixpkgs' Nix shell image cases, shared by tests/nix/nixshell.nix and
# nixos-tests/: whether the shell is interactive, and whether $HOME is the user's home.
{
  interactive = ''
    case "$-" in
    *i*) echo This shell is interactive ;;
    *) echo This shell is not interactive ;;
    esac
  '';
  homeIsTheUsers = ''
    if [[ "$HOME" != "$(eval "echo ~$(whoami)")" ]]; then
      echo "\$HOME ($HOME) is not the same as ~\$(whoami) ($(eval "echo ~$(whoami)"))"
      exit 1
    fi
  '';
}
