"""What every other package uses: the one user-facing error, typed fields of the JSON
documents Nix hands over, outputs that are all or nothing, the lines builders print, and the
interpreter that runs them.

    errors       StrataError: bad input, printed as one line
    commandline  exit statuses and messages of the command lines
    fields       typed access to a JSON document's fields
    output       outputs written whole or not at all
    progress     the lines a builder prints on stderr
    interpreter  this Python, for what a builder starts again with it
"""
