#!/bin/sh
# The image's entry point. Without arguments the image's CMD runs: HTTP mode, the Procfile's web: line.
#   docker run IMAGE                 HTTP mode on $PORT (default 3000)
#   docker run IMAGE run             Socket Mode (the Procfile's worker: line; needs SLACK_APP_TOKEN)
#   docker run IMAGE query ID ...    any other command of the bot: serve, query, demo, --help
#   docker run IMAGE sh              anything else runs as given
set -e
case "${1:-}" in
    run | serve | query | demo | -h | --help)
        exec python -m bot "$@"
        ;;
esac
exec "$@"
