# fish completion for rtcs-transfer
# Long options (kept the same as in the program's help and man page):
# --as --confirm --for --from --help --json --keys --kind --match --name
# --output --proof --quiet --session --since --socket --state --timeout --to
# --ttl --upload --verbose --version --wait
set -l cmds request offer show list confirm reject cancel wait watch run invite submit

function __rtcs_transfer_ids
    rtcs-transfer list --state open 2>/dev/null | string split -f1 ' '
end

function __rtcs_transfer_sessions
    rtcs-session list --state live 2>/dev/null | string split -f1 ' '
end

function __rtcs_transfer_devices
    set -l dir $RTCS_KEYS
    test -n "$dir"; or set dir (set -q XDG_STATE_HOME; and echo $XDG_STATE_HOME; or echo $HOME/.local/state)/rtcs/keys
    for f in $dir/*.token $dir/*.claim
        basename $f | string replace -r '\.[a-z]+$' ''
    end
end

complete -c rtcs-transfer -f
complete -c rtcs-transfer -n "not __fish_seen_subcommand_from $cmds" -a request -d 'push: ask for a code'
complete -c rtcs-transfer -n "not __fish_seen_subcommand_from $cmds" -a offer -d 'pull: a new device asks for a code'
complete -c rtcs-transfer -n "not __fish_seen_subcommand_from $cmds" -a show -d 'show a transfer'
complete -c rtcs-transfer -n "not __fish_seen_subcommand_from $cmds" -a list -d 'list transfers'
complete -c rtcs-transfer -n "not __fish_seen_subcommand_from $cmds" -a confirm -d 'consent to a transfer'
complete -c rtcs-transfer -n "not __fish_seen_subcommand_from $cmds" -a reject -d 'refuse a transfer'
complete -c rtcs-transfer -n "not __fish_seen_subcommand_from $cmds" -a cancel -d 'cancel a transfer'
complete -c rtcs-transfer -n "not __fish_seen_subcommand_from $cmds" -a wait -d 'wait for a state'
complete -c rtcs-transfer -n "not __fish_seen_subcommand_from $cmds" -a watch -d 'print transfer events'
complete -c rtcs-transfer -n "not __fish_seen_subcommand_from $cmds" -a run -d 'the whole push flow'
complete -c rtcs-transfer -n "not __fish_seen_subcommand_from $cmds" -a invite -d 'a printable invite code'
complete -c rtcs-transfer -n "__fish_seen_subcommand_from show confirm reject cancel wait watch" -a '(__rtcs_transfer_ids)'
complete -c rtcs-transfer -n "__fish_seen_subcommand_from request run" -a '(__rtcs_transfer_sessions)'

complete -c rtcs-transfer -s h -l help -d 'print the usage'
complete -c rtcs-transfer -s V -l version -d 'print the version'
complete -c rtcs-transfer -s S -l socket -r -F -d 'the server socket'
complete -c rtcs-transfer -l keys -r -a '(__fish_complete_directories)' -d 'the key directory'
complete -c rtcs-transfer -l json -d 'machine output'
complete -c rtcs-transfer -s q -l quiet -d 'only errors'
complete -c rtcs-transfer -s v -l verbose -d 'more on stderr'
complete -c rtcs-transfer -l timeout -x -d 'give up after SECONDS'
complete -c rtcs-transfer -l as -x -a '(__rtcs_transfer_devices)' -d 'the device acting'
complete -c rtcs-transfer -l to -x -a '(__rtcs_transfer_devices)' -d 'the new device'
complete -c rtcs-transfer -l from -x -a '(__rtcs_transfer_devices)' -d 'the origin device'
complete -c rtcs-transfer -l ttl -x -d 'code lifetime in seconds'
complete -c rtcs-transfer -l confirm -x -a 'none origin peers all' -d 'who confirms'
complete -c rtcs-transfer -l proof -x -a 'both scanner' -d 'whose image data'
complete -c rtcs-transfer -l session -x -a '(__rtcs_transfer_sessions)' -d 'the session'
complete -c rtcs-transfer -l match -x -d 'the 6-digit match code'
complete -c rtcs-transfer -l for -x -a 'issued scanned verified committing completed failed' -d 'state to wait for'
complete -c rtcs-transfer -l state -x -a 'open all' -d 'which transfers'
complete -c rtcs-transfer -l since -x -d 'start after this event'
complete -c rtcs-transfer -l name -x -d 'invite: participant name'
complete -c rtcs-transfer -l kind -x -a 'chat telephony video' -d 'invite: session kind'
complete -c rtcs-transfer -s o -l output -r -F -d 'render the code as PNG'
complete -c rtcs-transfer -l upload -d 'submit: send the PNG from stdin'
complete -c rtcs-transfer -l wait -d 'submit: wait until the transfer ends'
