# fish completion for rtcs-session
# Long options (kept the same as in the program's help and man page):
# --as --follow --help --json --keys --kind --quiet --since --socket --state
# --store --timeout --verbose --version
# media: --send --receive --resume --video --transfer --linger --duration
set -l cmds new list show end join attach send log media

function __rtcs_session_ids
    rtcs-session list --state live 2>/dev/null | string split -f1 ' '
end

function __rtcs_session_devices
    set -l dir $RTCS_KEYS
    test -n "$dir"; or set dir (set -q XDG_STATE_HOME; and echo $XDG_STATE_HOME; or echo $HOME/.local/state)/rtcs/keys
    for f in $dir/*.token
        basename $f .token
    end
end

complete -c rtcs-session -f
complete -c rtcs-session -n "not __fish_seen_subcommand_from $cmds" -a new -d 'create a session'
complete -c rtcs-session -n "not __fish_seen_subcommand_from $cmds" -a list -d 'list the sessions'
complete -c rtcs-session -n "not __fish_seen_subcommand_from $cmds" -a show -d 'show a session'
complete -c rtcs-session -n "not __fish_seen_subcommand_from $cmds" -a end -d 'end a session'
complete -c rtcs-session -n "not __fish_seen_subcommand_from $cmds" -a join -d 'add a participant'
complete -c rtcs-session -n "not __fish_seen_subcommand_from $cmds" -a attach -d 'chat as a device'
complete -c rtcs-session -n "not __fish_seen_subcommand_from $cmds" -a send -d 'send a message'
complete -c rtcs-session -n "not __fish_seen_subcommand_from $cmds" -a log -d 'print the session log'
complete -c rtcs-session -n "not __fish_seen_subcommand_from $cmds" -a media -d 'a call as a device'
complete -c rtcs-session -n "__fish_seen_subcommand_from show end join attach send log media" -a '(__rtcs_session_ids)'

complete -c rtcs-session -s h -l help -d 'print the usage'
complete -c rtcs-session -s V -l version -d 'print the version'
complete -c rtcs-session -s S -l socket -r -F -d 'the server socket'
complete -c rtcs-session -l keys -r -a '(__fish_complete_directories)' -d 'the key directory'
complete -c rtcs-session -l json -d 'machine output'
complete -c rtcs-session -s q -l quiet -d 'only errors'
complete -c rtcs-session -s v -l verbose -d 'more on stderr'
complete -c rtcs-session -l timeout -x -d 'give up after SECONDS'
complete -c rtcs-session -l kind -x -a 'chat telephony video' -d 'session kind'
complete -c rtcs-session -l as -x -a '(__rtcs_session_devices)' -d 'the device acting'
complete -c rtcs-session -l since -x -d 'start after this sequence number'
complete -c rtcs-session -l follow -d 'keep printing until the session ends'
complete -c rtcs-session -l state -x -a 'live ended all' -d 'which sessions'
complete -c rtcs-session -l store -r -a '(__fish_complete_directories)' -d 'read a store offline'
complete -c rtcs-session -l send -r -F -d 'media: the audio file to send'
complete -c rtcs-session -l receive -r -F -d 'media: the WAV file to write'
complete -c rtcs-session -l resume -d 'media: take up the file where the server last heard'
complete -c rtcs-session -l video -x -a '30fps:25KB' -d 'media: simulated video, RATEfps:SIZE'
complete -c rtcs-session -l transfer -x -d 'media: go once this transfer completes'
complete -c rtcs-session -l linger -x -d 'media: stop once the others are quiet SECONDS'
complete -c rtcs-session -l duration -x -d 'media: send SECONDS at most'
