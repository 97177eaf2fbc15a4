# fish completion for rtcs-scan(1): options, images, and for --submit the
# devices of the key directory on the line and the live sessions.
source (status dirname)/rtcs-common.fish
complete -c rtcs-scan -l symbols -x -a 'qr all' -d 'Symbologies to look for'
complete -c rtcs-scan -l json -d 'Print JSON Lines'
complete -c rtcs-scan -s q -l quiet -d 'No message when no code is found'
complete -c rtcs-scan -s v -l verbose -d 'Count the codes in each image'
complete -c rtcs-scan -s h -l help -d 'Print help'
complete -c rtcs-scan -s V -l version -d 'Print version'
complete -c rtcs-scan -l submit -d 'Submit each rtcs code to the server'
complete -c rtcs-scan -l explain -d 'Say what each code would do, submitting nothing'
complete -c rtcs-scan -l as -x -a '(__rtcs_devices)' -d 'The submitting device'
complete -c rtcs-scan -l upload -d 'Send the PNG itself'
complete -c rtcs-scan -l wait -d 'Wait until the transfer ends'
complete -c rtcs-scan -s S -l socket -r -d 'The server socket'
complete -c rtcs-scan -l keys -x -a '(__fish_complete_directories)' -d 'The key directory'
complete -c rtcs-scan -l session -x -a '(__rtcs_sessions)' -d 'The session id'
complete -c rtcs-scan -l name -x -d 'Invite: participant name'
complete -c rtcs-scan -l timeout -x -d 'Seconds to wait'
