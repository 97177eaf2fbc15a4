# fish completion for rtcs-session: commands, each command's options, and
# live values (sessions, devices of the key directory on the line).
source (status dirname)/rtcs-common.fish
set -l cmds new list show end join devices unlink attach send log media

complete -c rtcs-session -f
complete -c rtcs-session -n "not __fish_seen_subcommand_from $cmds" -a new -d 'create a session'
complete -c rtcs-session -n "not __fish_seen_subcommand_from $cmds" -a list -d 'list the sessions'
complete -c rtcs-session -n "not __fish_seen_subcommand_from $cmds" -a show -d 'show a session'
complete -c rtcs-session -n "not __fish_seen_subcommand_from $cmds" -a end -d 'end a session'
complete -c rtcs-session -n "not __fish_seen_subcommand_from $cmds" -a join -d 'add a participant'
complete -c rtcs-session -n "not __fish_seen_subcommand_from $cmds" -a devices -d 'channels over time'
complete -c rtcs-session -n "not __fish_seen_subcommand_from $cmds" -a unlink -d 'close a device\'s channel'
complete -c rtcs-session -n "not __fish_seen_subcommand_from $cmds" -a attach -d 'chat as a device'
complete -c rtcs-session -n "not __fish_seen_subcommand_from $cmds" -a send -d 'send a message'
complete -c rtcs-session -n "not __fish_seen_subcommand_from $cmds" -a log -d 'print the session log'
complete -c rtcs-session -n "not __fish_seen_subcommand_from $cmds" -a media -d 'a call as a device'
complete -c rtcs-session -n "__fish_seen_subcommand_from show end join devices unlink attach send log media" -a '(__rtcs_sessions)'

# every command
complete -c rtcs-session -s h -l help -d 'print the usage'
complete -c rtcs-session -s V -l version -d 'print the version'
complete -c rtcs-session -s S -l socket -r -F -d 'the server socket'
complete -c rtcs-session -l keys -r -a '(__fish_complete_directories)' -d 'the key directory'
complete -c rtcs-session -l json -d 'machine output'
complete -c rtcs-session -s q -l quiet -d 'only errors'
complete -c rtcs-session -s v -l verbose -d 'more on stderr'
complete -c rtcs-session -l timeout -x -d 'give up after SECONDS'
# each command's own
complete -c rtcs-session -n "__fish_seen_subcommand_from new" -l kind -x -a 'chat telephony video' -d 'session kind'
complete -c rtcs-session -n "__fish_seen_subcommand_from attach send log media" -l as -x -a '(__rtcs_devices)' -d 'the device acting'
complete -c rtcs-session -n "__fish_seen_subcommand_from attach log" -l since -x -d 'start after this sequence number'
complete -c rtcs-session -n "__fish_seen_subcommand_from log" -l follow -d 'keep printing until the session ends'
complete -c rtcs-session -n "__fish_seen_subcommand_from list" -l state -x -a 'live ended all' -d 'which sessions'
complete -c rtcs-session -n "__fish_seen_subcommand_from list show log" -l store -r -a '(__fish_complete_directories)' -d 'read a store offline'
complete -c rtcs-session -n "__fish_seen_subcommand_from media" -l send -r -F -d 'the audio file to send'
complete -c rtcs-session -n "__fish_seen_subcommand_from media" -l receive -r -F -d 'the WAV file to write'
complete -c rtcs-session -n "__fish_seen_subcommand_from media" -l resume -d 'take up the file where the server last heard'
complete -c rtcs-session -n "__fish_seen_subcommand_from media" -l video -x -a '30fps:25KB' -d 'simulated video, RATEfps:SIZE'
complete -c rtcs-session -n "__fish_seen_subcommand_from media" -l transfer -x -a '(__rtcs_transfers)' -d 'go once this transfer completes'
complete -c rtcs-session -n "__fish_seen_subcommand_from media" -l linger -x -d 'stop once the others are quiet SECONDS'
complete -c rtcs-session -n "__fish_seen_subcommand_from media" -l duration -x -d 'send SECONDS at most'
