# fish completion for rtcs-transfer: commands, each command's options, and
# live values (transfers, sessions, devices of the key directory on the line).
source (status dirname)/rtcs-common.fish
set -l cmds request offer show list confirm reject cancel wait watch run invite submit

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
complete -c rtcs-transfer -n "not __fish_seen_subcommand_from $cmds" -a submit -d 'submit a scanned code'
complete -c rtcs-transfer -n "__fish_seen_subcommand_from show confirm reject cancel wait watch" -a '(__rtcs_transfers)'
complete -c rtcs-transfer -n "__fish_seen_subcommand_from request run" -a '(__rtcs_sessions)'

# every command
complete -c rtcs-transfer -s h -l help -d 'print the usage'
complete -c rtcs-transfer -s V -l version -d 'print the version'
complete -c rtcs-transfer -s S -l socket -r -F -d 'the server socket'
complete -c rtcs-transfer -l keys -r -a '(__fish_complete_directories)' -d 'the key directory'
complete -c rtcs-transfer -l json -d 'machine output'
complete -c rtcs-transfer -s q -l quiet -d 'only errors'
complete -c rtcs-transfer -s v -l verbose -d 'more on stderr'
complete -c rtcs-transfer -l timeout -x -d 'give up after SECONDS'
# each command's own
complete -c rtcs-transfer -n "__fish_seen_subcommand_from request offer confirm reject cancel wait submit" -l as -x -a '(__rtcs_devices)' -d 'the device acting'
complete -c rtcs-transfer -n "__fish_seen_subcommand_from request run invite" -l to -x -a '(__rtcs_devices)' -d 'the new device'
complete -c rtcs-transfer -n "__fish_seen_subcommand_from run" -l from -x -a '(__rtcs_devices)' -d 'the origin device'
complete -c rtcs-transfer -n "__fish_seen_subcommand_from request offer run" -l ttl -x -d 'code lifetime in seconds'
complete -c rtcs-transfer -n "__fish_seen_subcommand_from request run" -l confirm -x -a 'none origin peers all' -d 'who confirms'
complete -c rtcs-transfer -n "__fish_seen_subcommand_from request run" -l proof -x -a 'both scanner' -d 'whose image data'
complete -c rtcs-transfer -n "__fish_seen_subcommand_from offer list watch submit" -l session -x -a '(__rtcs_sessions)' -d 'the session'
complete -c rtcs-transfer -n "__fish_seen_subcommand_from confirm run" -l match -x -a '-' -d 'the 6-digit match code, - reads it'
complete -c rtcs-transfer -n "__fish_seen_subcommand_from confirm" -l check -x -a '-' -d 'a pull\'s 2-digit check code, - reads it'
complete -c rtcs-transfer -n "__fish_seen_subcommand_from wait" -l for -x -a 'issued scanned verified committing completed failed' -d 'state to wait for'
complete -c rtcs-transfer -n "__fish_seen_subcommand_from list" -l state -x -a 'open all' -d 'which transfers'
complete -c rtcs-transfer -n "__fish_seen_subcommand_from watch" -l since -x -d 'start after this event'
complete -c rtcs-transfer -n "__fish_seen_subcommand_from invite submit" -l name -x -d 'participant name'
complete -c rtcs-transfer -n "__fish_seen_subcommand_from invite" -l kind -x -a 'chat telephony video' -d 'invite: session kind'
complete -c rtcs-transfer -n "__fish_seen_subcommand_from run invite" -s o -l output -r -F -d 'render the code as PNG'
complete -c rtcs-transfer -n "__fish_seen_subcommand_from submit" -l upload -d 'submit: send the PNG from stdin'
complete -c rtcs-transfer -n "__fish_seen_subcommand_from submit" -l wait -d 'submit: wait until the transfer ends'
