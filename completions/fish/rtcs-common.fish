# Shared by the fish completions of the rtcs programs (each sources this
# file from its own directory). Live values come from the line being
# completed: --keys DIR and -S SOCKET there are the ones asked (else
# $RTCS_KEYS, $RTCS_SOCKET, the defaults).

# __rtcs_opt_value OPTION...: the value given to the first of these options on the line.
function __rtcs_opt_value
    set -l toks (commandline -opc)
    set -l n (count $toks)
    for j in (seq $n)
        if contains -- $toks[$j] $argv; and test $j -lt $n
            string replace -r '^~' $HOME -- $toks[(math $j + 1)]
            return
        end
    end
end

# Devices of the key directory: their .token and .claim files.
function __rtcs_devices
    set -l dir (__rtcs_opt_value --keys)
    test -n "$dir"; or set dir $RTCS_KEYS
    test -n "$dir"; or set dir (set -q XDG_STATE_HOME; and echo $XDG_STATE_HOME; or echo $HOME/.local/state)/rtcs/keys
    for f in $dir/*.token $dir/*.claim
        basename $f | string replace -r '\.[a-z]+$' ''
    end | sort -u
end

function __rtcs_socket_args
    set -l s (__rtcs_opt_value -S --socket)
    test -n "$s"; and printf '%s\n' -S $s
end

function __rtcs_sessions
    rtcs-session (__rtcs_socket_args) list --state live 2>/dev/null | string split -f1 ' '
end

function __rtcs_transfers
    rtcs-transfer (__rtcs_socket_args) list --state open 2>/dev/null | string split -f1 ' '
end
